/** Embeddings for the k-NN tests. */
import { Rng } from "../../src/util/rng.js";

/**
 * Softmax outputs of a 10-class model, as PredictionDepth's last probe sees them: confident rows sit
 * within 1e-8 of a corner (many saturate to an exact 1.0 in float32, so their exact-path distances
 * tie at 0), the rest spread out. The float32 error bound (~1e-6 here) cannot separate such rows.
 */
export function softmaxLike(seed: number, n: number, classes = 10) {
  const rng = new Rng(seed);
  const y = Int32Array.from({ length: n }, () => rng.int(classes));
  const x = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const margin = rng.random() < 0.7 ? 12 + rng.random() * 20 : rng.random() * 6;
    const z = Array.from({ length: classes }, (_, c) => rng.normal() + (c === y[i] ? margin : 0));
    const top = Math.max(...z);
    const sum = z.reduce((s, v) => s + Math.exp(v - top), 0);
    for (let c = 0; c < classes; c++) x[i * classes + c] = Math.exp((z[c] as number) - top) / sum;
  }
  return { x, y };
}
