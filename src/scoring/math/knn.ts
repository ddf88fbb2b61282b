/**
 * Brute-force k-nearest-neighbour classification (euclidean, uniform weights), as the probes of
 * PredictionDepth need it (Baldock et al. 2021, arXiv 2106.09647; aucurriculum's `ParallelKNN`,
 * equivalent to scikit-learn `KNeighborsClassifier(algorithm="brute")`).
 *
 * Two paths with the same result. The exact path (plain JS) computes every distance in float64 from
 * blocks of queries and references, four queries per pass over a reference row. The tiled path
 * (`dot` given, e.g. the engine's `matMulTransposed`) gets the dot products of a tile of queries
 * against a tile of references from the matrix product ‖q‖² + ‖r‖² − 2·q·rᵀ in float32, keeps every
 * reference whose approximate distance can still be among the k nearest under a rigorous bound on
 * the float32 rounding error, and re-ranks those candidates with the exact path's float64 distances,
 * so both paths return identical predictions. Memory is O(tile² + N·D), never an N×N matrix.
 */

/** a·bᵀ of row-major a (rowsA × dim) and b (rowsB × dim), as rowsA × rowsB float32 values. */
export type DotProducts = (
  a: Float32Array,
  rowsA: number,
  b: Float32Array,
  rowsB: number,
  dim: number,
) => Float32Array;

export interface KnnOptions {
  /** Neighbours per query (k = 30 in the paper and aucurriculum). */
  k?: number;
  /** Number of classes; default max(label) + 1. */
  numClasses?: number;
  /** Called after each block of queries with the number of queries done (progress bars). */
  onProgress?: (done: number) => void;
  /** Matrix-product provider; when given, the tiled path runs (float32 products, exact re-ranking). */
  dot?: DotProducts;
  /** Queries per tile of the tiled path (default 1024; when queries are the references, `referenceTile`). */
  queryTile?: number;
  /** References per tile of the tiled path (default 2048). */
  referenceTile?: number;
  /** Filled by the tiled path: how much exact work the float32 error bound left over. */
  stats?: KnnStats;
}

export interface KnnStats {
  /** Calls of `dot`. */
  tiles: number;
  /** Candidates re-ranked with exact distances, summed over queries (k per query at best). */
  rescored: number;
  /** Queries whose candidate list overflowed and that were answered by a full exact scan. */
  fallbacks: number;
}

/**
 * Predicts the class of each query row by majority vote of its k nearest reference rows; a tie in the
 * vote goes to the lowest class index; equal distances keep the reference with the lower index.
 * `queries` may be `references` itself (the probe then counts the point among its own neighbours).
 */
export function knnPredict(
  references: Float32Array,
  labels: Int32Array,
  queries: Float32Array,
  dim: number,
  options: KnnOptions = {},
): Int32Array {
  const nRef = labels.length;
  if (references.length !== nRef * dim) {
    throw new Error(`k-NN: references hold ${references.length} values, expected ${nRef} × ${dim}`);
  }
  if (queries.length % dim !== 0) throw new Error(`k-NN: queries are not a multiple of dim ${dim}`);
  const k = Math.min(options.k ?? 30, nRef);
  if (k < 1) throw new Error("k-NN: needs at least one reference and k ≥ 1");
  let numClasses = options.numClasses ?? 0;
  if (!numClasses)
    for (let i = 0; i < nRef; i++) numClasses = Math.max(numClasses, (labels[i] as number) + 1);
  const refNorms = rowNorms(references, nRef, dim);
  const queryNorms = queries === references ? refNorms : rowNorms(queries, queries.length / dim, dim);
  const problem: Problem = { references, labels, queries, dim, k, numClasses, refNorms, queryNorms };
  return options.dot ? tiledPredict(problem, options.dot, options) : exactPredict(problem, options);
}

interface Problem {
  references: Float32Array;
  labels: Int32Array;
  queries: Float32Array;
  dim: number;
  k: number;
  numClasses: number;
  /** Squared row norms in float64. */
  refNorms: Float64Array;
  queryNorms: Float64Array;
}

function exactPredict(problem: Problem, options: KnnOptions): Int32Array {
  const { references, labels, queries, dim, k, numClasses, refNorms, queryNorms } = problem;
  const nRef = labels.length;
  const nQuery = queries.length / dim;
  const predictions = new Int32Array(nQuery);
  const bestDist = new Float64Array(QUERY_BLOCK * k);
  const bestIdx = new Int32Array(QUERY_BLOCK * k);
  const filled = new Int32Array(QUERY_BLOCK);
  const votes = new Int32Array(numClasses);

  // Cache blocking: a block of queries is compared with one block of references at a time, so both
  // stay in cache; four queries share each pass over a reference row.
  for (let b0 = 0; b0 < nQuery; b0 += QUERY_BLOCK) {
    const bEnd = Math.min(nQuery, b0 + QUERY_BLOCK);
    filled.fill(0);
    for (let r0 = 0; r0 < nRef; r0 += REFERENCE_BLOCK) {
      const rEnd = Math.min(nRef, r0 + REFERENCE_BLOCK);
      for (let q0 = b0; q0 < bEnd; q0 += 4) {
        const width = Math.min(4, bEnd - q0);
        const a0 = q0 * dim;
        const a1 = (q0 + Math.min(1, width - 1)) * dim;
        const a2 = (q0 + Math.min(2, width - 1)) * dim;
        const a3 = (q0 + Math.min(3, width - 1)) * dim;
        const slot = q0 - b0;
        for (let j = r0; j < rEnd; j++) {
          const b = j * dim;
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          for (let d = 0; d < dim; d++) {
            const r = references[b + d] as number;
            s0 += (queries[a0 + d] as number) * r;
            s1 += (queries[a1 + d] as number) * r;
            s2 += (queries[a2 + d] as number) * r;
            s3 += (queries[a3 + d] as number) * r;
          }
          const rn = refNorms[j] as number;
          insertBounded(
            bestDist,
            bestIdx,
            filled,
            slot,
            k,
            Math.max((queryNorms[q0] as number) + rn - 2 * s0, 0),
            j,
          );
          if (width > 1)
            insertBounded(
              bestDist,
              bestIdx,
              filled,
              slot + 1,
              k,
              Math.max((queryNorms[q0 + 1] as number) + rn - 2 * s1, 0),
              j,
            );
          if (width > 2)
            insertBounded(
              bestDist,
              bestIdx,
              filled,
              slot + 2,
              k,
              Math.max((queryNorms[q0 + 2] as number) + rn - 2 * s2, 0),
              j,
            );
          if (width > 3)
            insertBounded(
              bestDist,
              bestIdx,
              filled,
              slot + 3,
              k,
              Math.max((queryNorms[q0 + 3] as number) + rn - 2 * s3, 0),
              j,
            );
        }
      }
    }
    for (let q = b0; q < bEnd; q++) {
      const slot = q - b0;
      predictions[q] = vote(bestIdx, slot * k, k, labels, votes);
    }
    options.onProgress?.(bEnd);
  }
  return predictions;
}

/** Unit roundoff of float32. */
const FLOAT32_EPS = 2 ** -24;
/** A query whose candidate list outgrows this many entries is answered by a full exact scan. */
const MAX_CANDIDATES = 2048;

/**
 * The tiled path. For a query q and reference r, the float32 dot product of any summation order
 * satisfies |fl(q·r) − q·r| ≤ γ_D·Σ|q_i r_i| ≤ γ_D·‖q‖·‖r‖ (γ_D = D·u/(1 − D·u), Higham, "Accuracy and
 * Stability of Numerical Algorithms", section 3.1), so the approximate distance is within
 * e = 2γ_D·‖q‖·max‖r‖ (+ float64 slack) of the exact path's. With τ the k-th smallest approximate
 * distance, every true k-nearest reference has an approximate distance ≤ τ + 2e: those candidates
 * are kept (in reference order) and re-ranked exactly.
 */
function tiledPredict(problem: Problem, dot: DotProducts, options: KnnOptions): Int32Array {
  const { references, labels, queries, dim, k, refNorms, queryNorms } = problem;
  const nRef = labels.length;
  const nQuery = queries.length / dim;
  let maxRefNorm = 0;
  for (let j = 0; j < nRef; j++) maxRefNorm = Math.max(maxRefNorm, refNorms[j] as number);
  maxRefNorm = Math.sqrt(maxRefNorm);
  let maxQueryNorm = 0;
  for (let q = 0; q < nQuery; q++) maxQueryNorm = Math.max(maxQueryNorm, queryNorms[q] as number);
  maxQueryNorm = Math.sqrt(maxQueryNorm);
  // Non-finite values, products near the float32 overflow or absurd dimensions void the error bound
  // (NaN norms fail the comparison): the exact path then decides.
  if (!(maxRefNorm * maxQueryNorm < 1e36) || dim * FLOAT32_EPS >= 0.5) {
    return exactPredict(problem, options);
  }
  const gamma = (dim * FLOAT32_EPS) / (1 - dim * FLOAT32_EPS);
  const margins = Float64Array.from(queryNorms, (qn) => {
    const e = 2 * gamma * Math.sqrt(qn) * maxRefNorm + 1e-12 * (qn + maxRefNorm * maxRefNorm);
    return 2 * e * (1 + 1e-6);
  });
  // Queries that are the references (PredictionDepth's probes): the product tile of blocks (I, J ≥ I)
  // serves the queries of I (its rows) and those of J (its columns), which halves the products.
  const symmetric = queries === references;
  const rTile = Math.max(1, Math.min(nRef, options.referenceTile ?? 2048));
  const qTile = symmetric ? rTile : Math.max(1, Math.min(nQuery, options.queryTile ?? 1024));
  const transposed = symmetric ? new Float32Array(rTile * rTile) : null;
  const selection = new CandidateSelection(k, margins, queryNorms, refNorms);
  const stats = options.stats;
  const predictions = new Int32Array(nQuery);
  const scratchDist = new Float64Array(k);
  const scratchIdx = new Int32Array(k);
  const scratchFilled = new Int32Array(1);
  const votes = new Int32Array(problem.numClasses);
  const fallbacks: number[] = [];

  for (let i0 = 0; i0 < nQuery; i0 += qTile) {
    const iEnd = Math.min(nQuery, i0 + qTile);
    const nq = iEnd - i0;
    const queryBlock = queries.subarray(i0 * dim, iEnd * dim);
    // Every query receives the reference tiles in increasing order (columns of earlier row blocks
    // first), so its candidates stay in reference order.
    for (let j0 = symmetric ? i0 : 0; j0 < nRef; j0 += rTile) {
      const jEnd = Math.min(nRef, j0 + rTile);
      const nr = jEnd - j0;
      const dots = dot(queryBlock, nq, references.subarray(j0 * dim, jEnd * dim), nr, dim);
      if (dots.length !== nq * nr) {
        throw new Error(
          `k-NN: the dot-product provider returned ${dots.length} values, expected ${nq} × ${nr}`,
        );
      }
      if (stats) stats.tiles++;
      for (let r = 0; r < nq; r++) selection.scan(i0 + r, dots, r * nr, j0, nr);
      if (transposed && j0 !== i0) {
        transposeInto(dots, nq, nr, transposed);
        for (let c = 0; c < nr; c++) selection.scan(j0 + c, transposed, c * nq, i0, nq);
      }
    }
    for (let q = i0; q < iEnd; q++) {
      const candidates = selection.take(q);
      if (!candidates) {
        fallbacks.push(q);
        continue;
      }
      // Exact re-ranking: the exact path's float64 distance, candidates in reference order, so equal
      // distances keep the lower index exactly as there.
      const { dist: cDist, idx: cIdx, count, limit } = candidates;
      const qn = queryNorms[q] as number;
      const a = q * dim;
      scratchFilled[0] = 0;
      let rescored = 0;
      for (let c = 0; c < count; c++) {
        if (!((cDist[c] as number) <= limit)) continue;
        const j = cIdx[c] as number;
        const b = j * dim;
        let s = 0;
        for (let d = 0; d < dim; d++) s += (queries[a + d] as number) * (references[b + d] as number);
        const exact = Math.max(qn + (refNorms[j] as number) - 2 * s, 0);
        insertBounded(scratchDist, scratchIdx, scratchFilled, 0, k, exact, j);
        rescored++;
      }
      if (stats) stats.rescored += rescored;
      predictions[q] = vote(scratchIdx, 0, k, labels, votes);
    }
    options.onProgress?.(iEnd);
  }
  if (fallbacks.length > 0) {
    if (stats) stats.fallbacks += fallbacks.length;
    const rows = new Float32Array(fallbacks.length * dim);
    const norms = new Float64Array(fallbacks.length);
    fallbacks.forEach((q, i) => {
      rows.set(queries.subarray(q * dim, (q + 1) * dim), i * dim);
      norms[i] = queryNorms[q] as number;
    });
    const exact = exactPredict({ ...problem, queries: rows, queryNorms: norms }, {});
    fallbacks.forEach((q, i) => {
      predictions[q] = exact[i] as number;
    });
  }
  return predictions;
}

/**
 * Per query: the k smallest approximate distances (their largest is τ) and every reference seen so
 * far with approximate distance ≤ τ + margin, in the order offered. Lists are allocated on first use
 * and released by `take`, so only the queries of the tiles in flight hold memory.
 */
class CandidateSelection {
  private readonly bestDist: Float64Array;
  private readonly bestIdx: Int32Array;
  private readonly filled: Int32Array;
  private readonly count: Int32Array;
  private readonly overflow: Uint8Array;
  private readonly candDist: (Float64Array | null)[];
  private readonly candIdx: (Int32Array | null)[];
  private readonly initialCapacity: number;
  private readonly maxCandidates: number;

  constructor(
    private readonly k: number,
    private readonly margins: Float64Array,
    private readonly queryNorms: Float64Array,
    private readonly refNorms: Float64Array,
  ) {
    const n = margins.length;
    this.bestDist = new Float64Array(n * k);
    this.bestIdx = new Int32Array(n * k);
    this.filled = new Int32Array(n);
    this.count = new Int32Array(n);
    this.overflow = new Uint8Array(n);
    this.candDist = new Array(n).fill(null);
    this.candIdx = new Array(n).fill(null);
    this.initialCapacity = Math.min(MAX_CANDIDATES, 2 * k + 32);
    this.maxCandidates = Math.max(MAX_CANDIDATES, 4 * k);
  }

  /** Offers references r0..r0+nr−1 to query q; dots[offset + t] is the float32 q·r_{r0+t}. */
  scan(q: number, dots: Float32Array, offset: number, r0: number, nr: number): void {
    if (this.overflow[q]) return;
    const k = this.k;
    const bestDist = this.bestDist;
    const refNorms = this.refNorms;
    const qn = this.queryNorms[q] as number;
    const m = this.margins[q] as number;
    const kBase = q * k;
    let tau = this.filled[q] === k ? (bestDist[kBase + k - 1] as number) : Number.POSITIVE_INFINITY;
    let cDist = this.candDist[q] ?? new Float64Array(this.initialCapacity);
    let cIdx = this.candIdx[q] ?? new Int32Array(this.initialCapacity);
    this.candDist[q] = cDist;
    this.candIdx[q] = cIdx;
    let count = this.count[q] as number;
    for (let t = 0; t < nr; t++) {
      let d = qn + (refNorms[r0 + t] as number) - 2 * (dots[offset + t] as number);
      if (d < 0) d = 0;
      if (!(d <= tau + m)) continue;
      const j = r0 + t;
      if (d < tau) {
        insertBounded(bestDist, this.bestIdx, this.filled, q, k, d, j);
        if (this.filled[q] === k) tau = bestDist[kBase + k - 1] as number;
      }
      if (count === cIdx.length) {
        count = pruneCandidates(cDist, cIdx, count, tau + m);
        if (count > cIdx.length / 2) {
          if (cIdx.length >= this.maxCandidates) {
            this.overflow[q] = 1;
            this.candDist[q] = null;
            this.candIdx[q] = null;
            return;
          }
          const grown = Math.min(this.maxCandidates, cIdx.length * 2);
          const nd = new Float64Array(grown);
          nd.set(cDist.subarray(0, count));
          const ni = new Int32Array(grown);
          ni.set(cIdx.subarray(0, count));
          cDist = nd;
          cIdx = ni;
          this.candDist[q] = nd;
          this.candIdx[q] = ni;
        }
      }
      cDist[count] = d;
      cIdx[count] = j;
      count++;
    }
    this.count[q] = count;
  }

  /** The candidates of a finished query and the approximate-distance limit, or null after an overflow. */
  take(q: number): { dist: Float64Array; idx: Int32Array; count: number; limit: number } | null {
    const dist = this.candDist[q];
    const idx = this.candIdx[q];
    this.candDist[q] = null;
    this.candIdx[q] = null;
    if (this.overflow[q] || !dist || !idx) return null;
    const limit = (this.bestDist[q * this.k + this.k - 1] as number) + (this.margins[q] as number);
    return { dist, idx, count: this.count[q] as number, limit };
  }
}

/** dst (cols × rows) = transpose of src (rows × cols), in 32 × 32 blocks to stay in cache. */
function transposeInto(src: Float32Array, rows: number, cols: number, dst: Float32Array): void {
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const rEnd = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const cEnd = Math.min(cols, c0 + B);
      for (let r = r0; r < rEnd; r++) {
        const base = r * cols;
        for (let c = c0; c < cEnd; c++) dst[c * rows + r] = src[base + c] as number;
      }
    }
  }
}

/** Keeps the candidates with approximate distance ≤ limit, in order; returns their count. */
function pruneCandidates(dist: Float64Array, idx: Int32Array, count: number, limit: number): number {
  let kept = 0;
  for (let c = 0; c < count; c++) {
    if ((dist[c] as number) <= limit) {
      dist[kept] = dist[c] as number;
      idx[kept] = idx[c] as number;
      kept++;
    }
  }
  return kept;
}

/** Majority vote over the k neighbour indices at idx[base..base+k); a tie goes to the lowest class. */
function vote(idx: Int32Array, base: number, k: number, labels: Int32Array, votes: Int32Array): number {
  votes.fill(0);
  for (let t = 0; t < k; t++) {
    const label = labels[idx[base + t] as number] as number;
    votes[label] = (votes[label] as number) + 1;
  }
  let best = 0;
  for (let c = 1; c < votes.length; c++) if ((votes[c] as number) > (votes[best] as number)) best = c;
  return best;
}

/** Queries per block (their k-best lists live across reference blocks). */
const QUERY_BLOCK = 64;
/** References per block: 256 rows of 512 float32 = 512 KB, about an L2 cache. */
const REFERENCE_BLOCK = 256;

/** Keeps the k smallest (distance, index) pairs of slot w sorted ascending; strict < keeps lower indices on ties. */
function insertBounded(
  dist: Float64Array,
  idx: Int32Array,
  filled: Int32Array,
  w: number,
  k: number,
  d: number,
  j: number,
): void {
  const base = w * k;
  let size = filled[w] as number;
  if (size === k) {
    if (!(d < (dist[base + k - 1] as number))) return;
    size = k - 1;
  } else {
    filled[w] = size + 1;
  }
  let p = size;
  while (p > 0 && d < (dist[base + p - 1] as number)) {
    dist[base + p] = dist[base + p - 1] as number;
    idx[base + p] = idx[base + p - 1] as number;
    p--;
  }
  dist[base + p] = d;
  idx[base + p] = j;
}

function rowNorms(data: Float32Array, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let d = i * dim, end = d + dim; d < end; d++) s += (data[d] as number) * (data[d] as number);
    out[i] = s;
  }
  return out;
}
