/**
 * k-NN by definition, the reference the scoring tests compare the fast paths with: every distance
 * in float64, a full stable sort (equal distances keep the lower index), the vote with ties to the
 * lowest class.
 */
export function naiveKnn(
  x: Float32Array,
  y: Int32Array,
  q: Float32Array,
  dim: number,
  k: number,
): Int32Array {
  const n = y.length;
  const m = q.length / dim;
  const classes = Math.max(...y) + 1;
  const out = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const d = Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let t = 0; t < dim; t++) s += ((q[i * dim + t] as number) - (x[j * dim + t] as number)) ** 2;
      return { s, j };
    }).sort((a, b) => a.s - b.s || a.j - b.j);
    const votes = new Array(classes).fill(0);
    for (const { j } of d.slice(0, Math.min(k, n))) votes[y[j] as number]++;
    out[i] = votes.indexOf(Math.max(...votes));
  }
  return out;
}
