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
 * the float32 rounding error, and resolves those candidates with the exact path's float64 distances,
 * so both paths return identical predictions. Memory is O(tile² + N·(D + k)), never an N×N matrix.
 *
 * `knnPredictParallel` runs either path on several worker threads (node:worker_threads) over blocks
 * of queries (tile pairs for the tiled path, query ranges for the exact path) and merges their exact
 * neighbour lists; the result is identical to `knnPredict`'s for any thread count.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { PACKAGE_ROOT } from "../../config/package.js";

/** a·bᵀ of row-major a (rowsA × dim) and b (rowsB × dim), as rowsA × rowsB float32 values. */
export type DotProducts = (
  a: Float32Array,
  rowsA: number,
  b: Float32Array,
  rowsB: number,
  dim: number,
) => Float32Array;

/** A tile's candidates per query row (and column): see {@link TileCandidates}. */
export interface CandidateLists {
  rowStart: Int32Array;
  rowIndex: Int32Array;
  rowDist: Float64Array;
  colStart?: Int32Array;
  colIndex?: Int32Array;
  colDist?: Float64Array;
}

/** Queries' bounds as a tile pass starts: keep = limit + e (+Infinity while unknown), and e. */
export interface CandidateBounds {
  keep: Float64Array;
  errors: Float64Array;
}

/**
 * The tile product and the scan's first filter in one native call (the engine's `tileCandidates`):
 * for row r of a, the indices t of b's rows with d = (normsA[r] + normsB[t]) − 2·(a_r·b_t) (float64
 * from the float32 product, clamped at 0) within r's bound, ascending, with their d; with `cols` the
 * same for b's rows against a's. A finite bound is rows.keep[r]; an infinite one becomes (k-th
 * smallest d seen + e) + e once k were seen, which is never below the scan's own bound. The JS scan
 * computes the same d for every pair, so every pair it would offer is among these, and the search
 * re-checks only them.
 */
export type TileCandidates = (
  a: Float32Array,
  rowsA: number,
  b: Float32Array,
  rowsB: number,
  dim: number,
  normsA: Float64Array,
  normsB: Float64Array,
  k: number,
  rows: CandidateBounds,
  cols: CandidateBounds | null,
) => CandidateLists;

/**
 * A matrix-product provider and how it may be parallelised: the shape of the engine's
 * `matrixPrimitive()` (src/engine/linalg.ts), declared here so that scoring does not depend on an
 * engine implementation.
 */
export interface MatrixProvider {
  matMulTransposed: DotProducts;
  /** Threads one call uses by itself (1 for the wasm engine). */
  threadsPerCall: number;
  /**
   * Options a worker thread passes to the engine's `initEngine` to get the same provider there;
   * null when the provider must be called from this thread only.
   */
  workerInit: Record<string, unknown> | null;
  /** The fused product and candidate filter, where the engine has one (torch). */
  tileCandidates?: TileCandidates;
}

export interface KnnOptions {
  /** Neighbours per query (k = 30 in the paper and aucurriculum). */
  k?: number;
  /** Number of classes; default max(label) + 1. */
  numClasses?: number;
  /** Called as the work proceeds with (an estimate of) the number of queries done (progress bars). */
  onProgress?: (done: number) => void;
  /** Matrix-product provider; when given, the tiled path runs (float32 products, exact re-ranking). */
  dot?: DotProducts;
  /** With `dot`: the engine's fused product and candidate filter, used instead of the JS scan. */
  candidates?: TileCandidates;
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
  /** Exact float64 distances computed to resolve candidates, summed over queries (k per query at best). */
  rescored: number;
  /**
   * Queries whose candidate buffer filled up with references the float32 bound could not tell apart
   * (near-ties) and was resolved exactly during the scan, at least once. No query is rescanned.
   */
  overflows: number;
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
  const problem = makeProblem(references, labels, queries, dim, options);
  const plan = options.dot ? planTiles(problem, options) : null;
  if (!plan || !options.dot) return exactPredict(problem, options);
  const search = new TiledSearch(problem, plan);
  for (let p = 0; p < plan.pairs; p++) {
    search.runPair(p, options.dot, options.candidates);
    options.onProgress?.(Math.floor((problem.nQuery * (p + 1)) / plan.pairs));
  }
  search.finishAll();
  search.addStats(options.stats);
  return voteAll(problem, [search.result()]);
}

export interface ParallelKnnOptions extends Omit<KnnOptions, "dot"> {
  /** The matrix-product provider (the engine's `matrixPrimitive()`); null or absent: the exact path. */
  matrix?: MatrixProvider | null;
  /** Threads in all (default: the available cores); workers = threads / the provider's threadsPerCall. */
  threads?: number;
  /**
   * Below this many multiply-adds (queries × references × dim) one thread does the work, since
   * starting workers costs more (default 2^28; 0 always uses the threads).
   */
  minParallelWork?: number;
}

/**
 * `knnPredict` on worker threads: the tiled path's tile pairs (or the exact path's query ranges) are
 * shared out among the workers, whose exact neighbour lists are merged here. Identical result to
 * `knnPredict` for any thread count. Workers run the compiled module (dist/), like the executor's
 * worker processes.
 */
export async function knnPredictParallel(
  references: Float32Array,
  labels: Int32Array,
  queries: Float32Array,
  dim: number,
  options: ParallelKnnOptions = {},
): Promise<Int32Array> {
  const matrix = options.matrix ?? null;
  const base: KnnOptions = {
    ...options,
    ...(matrix ? { dot: matrix.matMulTransposed } : {}),
    ...(matrix?.tileCandidates ? { candidates: matrix.tileCandidates } : {}),
  };
  const problem = makeProblem(references, labels, queries, dim, base);
  const plan = matrix ? planTiles(problem, base) : null;
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  let workers = plan && matrix ? Math.floor(threads / Math.max(1, matrix.threadsPerCall)) : threads;
  if (plan && matrix && matrix.workerInit === null) workers = 1;
  workers = Math.min(workers, plan ? plan.pairs : Math.ceil(problem.nQuery / QUERY_BLOCK));
  const work = problem.nQuery * problem.nRef * dim;
  if (work < (options.minParallelWork ?? 2 ** 28)) workers = 1;
  if (workers <= 1) return knnPredict(references, labels, queries, dim, base);
  return runWorkers(problem, plan, matrix, workers, options);
}

interface Problem {
  references: Float32Array;
  labels: Int32Array;
  queries: Float32Array;
  dim: number;
  k: number;
  numClasses: number;
  nRef: number;
  nQuery: number;
  /** Squared row norms in float64. */
  refNorms: Float64Array;
  queryNorms: Float64Array;
}

function makeProblem(
  references: Float32Array,
  labels: Int32Array,
  queries: Float32Array,
  dim: number,
  options: KnnOptions,
): Problem {
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
  const nQuery = queries.length / dim;
  const refNorms = rowNorms(references, nRef, dim);
  const queryNorms = queries === references ? refNorms : rowNorms(queries, nQuery, dim);
  return { references, labels, queries, dim, k, numClasses, nRef, nQuery, refNorms, queryNorms };
}

function exactPredict(problem: Problem, options: KnnOptions, q0 = 0, q1 = problem.nQuery): Int32Array {
  const { references, labels, queries, dim, k, numClasses, refNorms, queryNorms, nRef } = problem;
  const predictions = new Int32Array(q1 - q0);
  const bestDist = new Float64Array(QUERY_BLOCK * k);
  const bestIdx = new Int32Array(QUERY_BLOCK * k);
  const filled = new Int32Array(QUERY_BLOCK);
  const votes = new Int32Array(numClasses);

  // Cache blocking: a block of queries is compared with one block of references at a time, so both
  // stay in cache; four queries share each pass over a reference row.
  for (let b0 = q0; b0 < q1; b0 += QUERY_BLOCK) {
    const bEnd = Math.min(q1, b0 + QUERY_BLOCK);
    filled.fill(0);
    for (let r0 = 0; r0 < nRef; r0 += REFERENCE_BLOCK) {
      const rEnd = Math.min(nRef, r0 + REFERENCE_BLOCK);
      for (let qa = b0; qa < bEnd; qa += 4) {
        const width = Math.min(4, bEnd - qa);
        const a0 = qa * dim;
        const a1 = (qa + Math.min(1, width - 1)) * dim;
        const a2 = (qa + Math.min(2, width - 1)) * dim;
        const a3 = (qa + Math.min(3, width - 1)) * dim;
        const slot = qa - b0;
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
            Math.max((queryNorms[qa] as number) + rn - 2 * s0, 0),
            j,
          );
          if (width > 1)
            insertBounded(
              bestDist,
              bestIdx,
              filled,
              slot + 1,
              k,
              Math.max((queryNorms[qa + 1] as number) + rn - 2 * s1, 0),
              j,
            );
          if (width > 2)
            insertBounded(
              bestDist,
              bestIdx,
              filled,
              slot + 2,
              k,
              Math.max((queryNorms[qa + 2] as number) + rn - 2 * s2, 0),
              j,
            );
          if (width > 3)
            insertBounded(
              bestDist,
              bestIdx,
              filled,
              slot + 3,
              k,
              Math.max((queryNorms[qa + 3] as number) + rn - 2 * s3, 0),
              j,
            );
        }
      }
    }
    for (let q = b0; q < bEnd; q++) {
      const slot = q - b0;
      predictions[q - q0] = vote(bestIdx, slot * k, k, labels, votes);
    }
    options.onProgress?.(bEnd - q0);
  }
  return predictions;
}

/** Unit roundoff of float32 and float64. */
const FLOAT32_EPS = 2 ** -24;
const FLOAT64_EPS = 2 ** -53;
/** Smallest normal float32: bounds the absolute error a product loses to underflow. */
const FLOAT32_MIN_NORMAL = 2 ** -126;

interface TilePlan {
  symmetric: boolean;
  qTile: number;
  rTile: number;
  /** Tile pairs (I, J): blocks of queries and references; for symmetric problems J ≥ I. */
  pairs: number;
  pairI: Int32Array;
  pairJ: Int32Array;
  /** Per query: a bound e on |approximate − exact-path distance| for every reference. */
  errors: Float64Array;
}

/**
 * The error bound of the tiled path. For a query q and reference r, the float32 dot product of any
 * summation order satisfies |fl(q·r) − q·r| ≤ γ_D·Σ|q_i r_i| ≤ γ_D·‖q‖·‖r‖ (γ_D = D·u/(1 − D·u),
 * Higham, "Accuracy and Stability of Numerical Algorithms",
 * section 3.1); the float64 norms and the exact
 * path's own float64 distance add at most 2(γ64_D + 4u64)(‖q‖² + ‖r‖²) each. So the approximate
 * distance d̃ and the exact path's d are within e = 2γ_D·‖q‖·max‖r‖ + 4(γ64_D + 4u64)(‖q‖² + max‖r‖²)
 * (+ underflow) of each other. Returns null when the bound is void (non-finite values, products
 * near the float32 overflow, absurd dimensions): the exact path then decides.
 */
function planTiles(problem: Problem, options: KnnOptions): TilePlan | null {
  const { dim, nRef, nQuery, refNorms, queryNorms, queries, references } = problem;
  let maxRefNorm = 0;
  for (let j = 0; j < nRef; j++) maxRefNorm = Math.max(maxRefNorm, refNorms[j] as number);
  let maxQueryNorm = 0;
  for (let q = 0; q < nQuery; q++) maxQueryNorm = Math.max(maxQueryNorm, queryNorms[q] as number);
  // NaN norms fail the comparison.
  if (!(Math.sqrt(maxRefNorm) * Math.sqrt(maxQueryNorm) < 1e36) || dim * FLOAT32_EPS >= 0.5) return null;
  const gamma32 = (dim * FLOAT32_EPS) / (1 - dim * FLOAT32_EPS);
  const gamma64 = (dim * FLOAT64_EPS) / (1 - dim * FLOAT64_EPS);
  const maxR = Math.sqrt(maxRefNorm);
  const errors = Float64Array.from(queryNorms, (qn) => {
    const e =
      2 * gamma32 * Math.sqrt(qn) * maxR +
      4 * (gamma64 + 4 * FLOAT64_EPS) * (qn + maxRefNorm) +
      4 * dim * FLOAT32_MIN_NORMAL;
    // Covers the rounding of this bound and of the comparisons that use it.
    return e * (1 + 1e-6);
  });
  // Queries that are the references (PredictionDepth's probes): the product tile of blocks (I, J ≥ I)
  // serves the queries of I (its rows) and those of J (its columns), which halves the products.
  const symmetric = queries === references;
  const rTile = Math.max(1, Math.min(nRef, options.referenceTile ?? 2048));
  const qTile = symmetric ? rTile : Math.max(1, Math.min(nQuery, options.queryTile ?? 1024));
  const qBlocks = Math.ceil(nQuery / qTile);
  const rBlocks = Math.ceil(nRef / rTile);
  const pairs = symmetric ? (qBlocks * (qBlocks + 1)) / 2 : qBlocks * rBlocks;
  const pairI = new Int32Array(pairs);
  const pairJ = new Int32Array(pairs);
  let p = 0;
  for (let i = 0; i < qBlocks; i++)
    for (let j = symmetric ? i : 0; j < rBlocks; j++) {
      pairI[p] = i;
      pairJ[p] = j;
      p++;
    }
  return { symmetric, qTile, rTile, pairs, pairI, pairJ, errors };
}

/** The exact k nearest (distance, index) pairs per query, sorted by distance, then index. */
interface NeighbourLists {
  dist: Float64Array;
  idx: Int32Array;
  filled: Int32Array;
}

/**
 * The tiled path's state for every query: the k smallest approximate distances seen (their largest
 * plus e bounds the exact k-th distance from above), the exact k nearest of the candidates resolved
 * so far, and a small buffer of unresolved candidates.
 *
 * A reference r is a candidate when its approximate distance d̃ can still put it among the exact k
 * nearest: d̃ − e ≤ U, with U the smaller of (k-th smallest d̃) + e and the exact k-th distance of
 * the resolved list. Once the resolved list is full, a reference whose lower bound max(d̃ − e, 0)
 * reaches its k-th distance and whose index is higher than its k-th index cannot enter either (equal
 * distances keep the lower index), which disposes of massive exact ties. A full buffer is first
 * pruned against the current U; if that frees less than half, its candidates are resolved: their
 * exact distances (the exact path's float64 formula) are merged into the resolved list. The result
 * does not depend on the order in which tiles are offered, so any split of the tile pairs among
 * workers gives the same neighbours.
 */
class TiledSearch {
  private readonly k: number;
  private readonly capacity: number;
  private readonly apx: Float64Array;
  private readonly apxFilled: Int32Array;
  private readonly lists: NeighbourLists;
  private readonly bufDist: Float64Array;
  private readonly bufIdx: Int32Array;
  private readonly bufCount: Int32Array;
  private readonly spilled: Uint8Array;
  private transposed: Float32Array | null = null;
  tiles = 0;
  rescored = 0;

  constructor(
    private readonly problem: Problem,
    private readonly plan: TilePlan,
  ) {
    const n = problem.nQuery;
    const k = problem.k;
    this.k = k;
    this.capacity = 2 * k + 32;
    this.apx = new Float64Array(n * k);
    this.apxFilled = new Int32Array(n);
    this.lists = { dist: new Float64Array(n * k), idx: new Int32Array(n * k), filled: new Int32Array(n) };
    this.bufDist = new Float64Array(n * this.capacity);
    this.bufIdx = new Int32Array(n * this.capacity);
    this.bufCount = new Int32Array(n);
    this.spilled = new Uint8Array(n);
  }

  /**
   * Computes the product tile of pair p and offers it to its queries (rows, and columns if
   * symmetric): through the engine's fused candidate filter when there is one, else by the JS scan.
   */
  runPair(p: number, dot: DotProducts, candidates?: TileCandidates): void {
    const { queries, references, dim, nQuery, nRef } = this.problem;
    const { qTile, rTile, symmetric } = this.plan;
    const i0 = (this.plan.pairI[p] as number) * qTile;
    const j0 = (this.plan.pairJ[p] as number) * rTile;
    const iEnd = Math.min(nQuery, i0 + qTile);
    const jEnd = Math.min(nRef, j0 + rTile);
    const nq = iEnd - i0;
    const nr = jEnd - j0;
    if (candidates) {
      this.runPairFused(candidates, i0, nq, j0, nr, symmetric && j0 !== i0);
      return;
    }
    const dots = dot(
      queries.subarray(i0 * dim, iEnd * dim),
      nq,
      references.subarray(j0 * dim, jEnd * dim),
      nr,
      dim,
    );
    if (dots.length !== nq * nr) {
      throw new Error(
        `k-NN: the dot-product provider returned ${dots.length} values, expected ${nq} × ${nr}`,
      );
    }
    this.tiles++;
    for (let r = 0; r < nq; r++) this.scan(i0 + r, dots, r * nr, j0, nr);
    if (symmetric && j0 !== i0) {
      this.transposed ??= new Float32Array(rTile * rTile);
      transposeInto(dots, nq, nr, this.transposed);
      for (let c = 0; c < nr; c++) this.scan(j0 + c, this.transposed, c * nq, i0, nq);
    }
  }

  /**
   * runPair through the engine's filter: each query's bound (limit + e, as the scan starts with)
   * goes in, the pairs that pass it come out in reference order, and each is offered as the scan
   * would, re-checked against the bound as it tightens. Bounds only tighten during a scan, so a pair
   * the filter drops would have been dropped by the scan too: the same offers, the same result.
   */
  private runPairFused(
    candidates: TileCandidates,
    i0: number,
    nq: number,
    j0: number,
    nr: number,
    columns: boolean,
  ): void {
    const { queries, references, dim, queryNorms, refNorms } = this.problem;
    const bounds = (q0: number, n: number): CandidateBounds => {
      const errors = this.plan.errors.subarray(q0, q0 + n);
      const keep = new Float64Array(n);
      for (let i = 0; i < n; i++) keep[i] = this.limit(q0 + i) + (errors[i] as number);
      return { keep, errors };
    };
    const lists = candidates(
      queries.subarray(i0 * dim, (i0 + nq) * dim),
      nq,
      references.subarray(j0 * dim, (j0 + nr) * dim),
      nr,
      dim,
      queryNorms.subarray(i0, i0 + nq),
      refNorms.subarray(j0, j0 + nr),
      this.k,
      bounds(i0, nq),
      columns ? bounds(j0, nr) : null,
    );
    this.tiles++;
    for (let r = 0; r < nq; r++) {
      this.offerAll(
        i0 + r,
        lists.rowIndex,
        lists.rowDist,
        lists.rowStart[r] as number,
        lists.rowStart[r + 1] as number,
        j0,
      );
    }
    if (columns) {
      const start = lists.colStart as Int32Array;
      for (let c = 0; c < nr; c++) {
        this.offerAll(
          j0 + c,
          lists.colIndex as Int32Array,
          lists.colDist as Float64Array,
          start[c] as number,
          start[c + 1] as number,
          i0,
        );
      }
    }
  }

  /** Offers query q the candidates index/dist[from..to) (references base + index), as `scan` would. */
  private offerAll(
    q: number,
    index: Int32Array,
    dist: Float64Array,
    from: number,
    to: number,
    base: number,
  ): void {
    const e = this.plan.errors[q] as number;
    let keep = this.limit(q) + e;
    for (let c = from; c < to; c++) {
      const d = dist[c] as number;
      if (!(d <= keep)) continue;
      this.offer(q, d, base + (index[c] as number), e);
      keep = this.limit(q) + e;
    }
  }

  /** Upper bound U on the exact k-th distance of query q from what it has seen. */
  private limit(q: number): number {
    const k = this.k;
    const last = q * k + k - 1;
    let u = Number.POSITIVE_INFINITY;
    if (this.apxFilled[q] === k) u = (this.apx[last] as number) + (this.plan.errors[q] as number);
    if (this.lists.filled[q] === k) u = Math.min(u, this.lists.dist[last] as number);
    return u;
  }

  /** Offers references r0..r0+nr−1 to query q; dots[offset + t] is the float32 q·r_{r0+t}. */
  private scan(q: number, dots: Float32Array, offset: number, r0: number, nr: number): void {
    const refNorms = this.problem.refNorms;
    const qn = this.problem.queryNorms[q] as number;
    const e = this.plan.errors[q] as number;
    let keep = this.limit(q) + e;
    for (let t = 0; t < nr; t++) {
      let d = qn + (refNorms[r0 + t] as number) - 2 * (dots[offset + t] as number);
      if (d < 0) d = 0;
      if (!(d <= keep)) continue;
      this.offer(q, d, r0 + t, e);
      keep = this.limit(q) + e;
    }
  }

  private offer(q: number, d: number, j: number, e: number): void {
    const k = this.k;
    const last = q * k + k - 1;
    const lists = this.lists;
    if (lists.filled[q] === k) {
      const lower = Math.max(d - e, 0);
      const kth = lists.dist[last] as number;
      if (lower > kth || (lower >= kth && j > (lists.idx[last] as number))) return;
    }
    if ((this.apxFilled[q] as number) < k || d < (this.apx[last] as number)) {
      insertValue(this.apx, this.apxFilled, q, k, d);
    }
    const cap = this.capacity;
    let count = this.bufCount[q] as number;
    if (count === cap) {
      count = this.prune(q);
      if (count > cap / 2) {
        this.resolve(q, count);
        this.spilled[q] = 1;
        count = 0;
      }
    }
    this.bufDist[q * cap + count] = d;
    this.bufIdx[q * cap + count] = j;
    this.bufCount[q] = count + 1;
  }

  /** Drops buffered candidates of q that can no longer enter its k nearest; returns how many are left. */
  private prune(q: number): number {
    const k = this.k;
    const cap = this.capacity;
    const base = q * cap;
    const e = this.plan.errors[q] as number;
    const keep = this.limit(q) + e;
    const lists = this.lists;
    const full = lists.filled[q] === k;
    const kth = full ? (lists.dist[q * k + k - 1] as number) : Number.POSITIVE_INFINITY;
    const kthIdx = full ? (lists.idx[q * k + k - 1] as number) : 0;
    let kept = 0;
    const count = this.bufCount[q] as number;
    for (let c = 0; c < count; c++) {
      const d = this.bufDist[base + c] as number;
      const j = this.bufIdx[base + c] as number;
      if (!(d <= keep)) continue;
      if (full) {
        const lower = Math.max(d - e, 0);
        if (lower >= kth && j > kthIdx) continue;
      }
      this.bufDist[base + kept] = d;
      this.bufIdx[base + kept] = j;
      kept++;
    }
    this.bufCount[q] = kept;
    return kept;
  }

  /** Merges the exact distances of q's first `count` buffered candidates into its resolved list. */
  private resolve(q: number, count: number): void {
    const { queries, references, dim, queryNorms, refNorms } = this.problem;
    const base = q * this.capacity;
    const qn = queryNorms[q] as number;
    const a = q * dim;
    for (let c = 0; c < count; c++) {
      const j = this.bufIdx[base + c] as number;
      const b = j * dim;
      // The exact path's float64 distance, summed in the same order, so equal distances tie exactly.
      let s = 0;
      for (let d = 0; d < dim; d++) s += (queries[a + d] as number) * (references[b + d] as number);
      insertLex(this.lists, q, this.k, Math.max(qn + (refNorms[j] as number) - 2 * s, 0), j);
    }
    this.rescored += count;
    this.bufCount[q] = 0;
  }

  /** Resolves every query's remaining candidates: the resolved lists are then the exact k nearest. */
  finishAll(): void {
    for (let q = 0; q < this.problem.nQuery; q++) {
      if ((this.bufCount[q] as number) === 0) continue;
      this.resolve(q, this.prune(q));
    }
  }

  result(): NeighbourLists {
    return this.lists;
  }

  addStats(stats: KnnStats | undefined): void {
    if (!stats) return;
    stats.tiles += this.tiles;
    stats.rescored += this.rescored;
    for (let q = 0; q < this.spilled.length; q++) stats.overflows += this.spilled[q] as number;
  }

  /** Queries that resolved a full buffer in flight (for merging worker stats). */
  spilledQueries(): Uint8Array {
    return this.spilled;
  }
}

/** Keeps the k smallest values of slot w sorted ascending. */
function insertValue(dist: Float64Array, filled: Int32Array, w: number, k: number, d: number): void {
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
    p--;
  }
  dist[base + p] = d;
}

/**
 * Keeps the k smallest (distance, index) pairs of slot w in lexicographic order, whatever the order
 * of insertion: the same set as the exact path's scan in reference order with strict comparisons.
 */
function insertLex(lists: NeighbourLists, w: number, k: number, d: number, j: number): void {
  const { dist, idx, filled } = lists;
  const base = w * k;
  let size = filled[w] as number;
  if (size === k) {
    const l = base + k - 1;
    const ld = dist[l] as number;
    if (!(d < ld || (d === ld && j < (idx[l] as number)))) return;
    size = k - 1;
  } else {
    filled[w] = size + 1;
  }
  let p = size;
  while (p > 0) {
    const pd = dist[base + p - 1] as number;
    if (!(d < pd || (d === pd && j < (idx[base + p - 1] as number)))) break;
    dist[base + p] = pd;
    idx[base + p] = idx[base + p - 1] as number;
    p--;
  }
  dist[base + p] = d;
  idx[base + p] = j;
}

/** Merges the exact neighbour lists of several workers (each over part of the references) and votes. */
function voteAll(problem: Problem, parts: NeighbourLists[]): Int32Array {
  const { nQuery, k, labels, numClasses } = problem;
  const predictions = new Int32Array(nQuery);
  const votes = new Int32Array(numClasses);
  const merged: NeighbourLists = {
    dist: new Float64Array(k),
    idx: new Int32Array(k),
    filled: new Int32Array(1),
  };
  for (let q = 0; q < nQuery; q++) {
    let source: NeighbourLists = parts[0] as NeighbourLists;
    let slot = q;
    if (parts.length > 1) {
      merged.filled[0] = 0;
      for (const part of parts) {
        const n = part.filled[q] as number;
        for (let t = 0; t < n; t++) {
          insertLex(merged, 0, k, part.dist[q * k + t] as number, part.idx[q * k + t] as number);
        }
      }
      source = merged;
      slot = 0;
    }
    if ((source.filled[slot] as number) !== k) {
      throw new Error(`k-NN: query ${q} ended with ${source.filled[slot]} of ${k} neighbours`);
    }
    predictions[q] = vote(source.idx, slot * k, k, labels, votes);
  }
  return predictions;
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

// ---------------------------------------------------------------------------------------------
// Worker threads

/** What a worker receives: the problem in shared memory and its share of the work. */
interface WorkerTask {
  mode: "tiled" | "exact";
  references: Float32Array;
  labels: Int32Array;
  /** null: the queries are the references. */
  queries: Float32Array | null;
  dim: number;
  k: number;
  numClasses: number;
  queryTile?: number;
  referenceTile?: number;
  /** Tiled: [next tile pair]; exact: [queries done by this worker]. */
  counter: Int32Array;
  /** Exact path: the query range of this worker. */
  range?: [number, number];
  engineInit?: Record<string, unknown> | null;
}

interface WorkerReply {
  lists?: NeighbourLists;
  predictions?: Int32Array;
  tiles?: number;
  rescored?: number;
  spilled?: Uint8Array;
  error?: string;
}

function shared<T extends Float32Array | Int32Array>(array: T): T {
  if (array.buffer instanceof SharedArrayBuffer) return array;
  const Ctor = array.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Ctor(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}

/** The compiled worker module: next to this file when running from dist/, else the package's dist/. */
export function knnWorkerPath(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = here.replace(/knn\.(ts|js)$/, "knn-worker.js");
  if (here.endsWith(".js") && existsSync(sibling)) return sibling;
  return join(PACKAGE_ROOT, "dist", "scoring", "math", "knn-worker.js");
}

async function runWorkers(
  problem: Problem,
  plan: TilePlan | null,
  matrix: MatrixProvider | null,
  workers: number,
  options: ParallelKnnOptions,
): Promise<Int32Array> {
  const path = knnWorkerPath();
  if (!existsSync(path)) {
    throw new Error(`k-NN: the worker module ${path} is missing (build with 'npm run build')`);
  }
  const references = shared(problem.references);
  const labels = shared(problem.labels);
  const queries = problem.queries === problem.references ? null : shared(problem.queries);
  const common = {
    references,
    labels,
    queries,
    dim: problem.dim,
    k: problem.k,
    numClasses: problem.numClasses,
    ...(options.queryTile === undefined ? {} : { queryTile: options.queryTile }),
    ...(options.referenceTile === undefined ? {} : { referenceTile: options.referenceTile }),
  };
  const tasks: WorkerTask[] = [];
  if (plan && matrix) {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    for (let w = 0; w < workers; w++)
      tasks.push({ ...common, mode: "tiled", counter, engineInit: matrix.workerInit });
  } else {
    const per = Math.ceil(problem.nQuery / workers);
    for (let w = 0; w < workers; w++) {
      const range: [number, number] = [w * per, Math.min(problem.nQuery, (w + 1) * per)];
      tasks.push({ ...common, mode: "exact", counter: new Int32Array(new SharedArrayBuffer(4)), range });
    }
  }
  const progress = options.onProgress
    ? setInterval(() => {
        if (plan) {
          const done = Math.min(plan.pairs, Atomics.load(tasks[0]?.counter as Int32Array, 0));
          options.onProgress?.(Math.floor((problem.nQuery * done) / plan.pairs));
        } else {
          options.onProgress?.(tasks.reduce((s, t) => s + Atomics.load(t.counter, 0), 0));
        }
      }, 250)
    : null;
  try {
    const started = tasks.map((task) => startWorker(path, task));
    // One failing worker stops the others (they would only compute a result nobody reads).
    const replies = await Promise.all(started.map((s) => s.reply)).catch(async (error: unknown) => {
      await Promise.all(started.map((s) => s.worker.terminate()));
      throw error;
    });
    if (!plan) {
      const predictions = new Int32Array(problem.nQuery);
      replies.forEach((reply, w) => {
        predictions.set(reply.predictions as Int32Array, (tasks[w] as WorkerTask).range?.[0] ?? 0);
      });
      options.onProgress?.(problem.nQuery);
      return predictions;
    }
    const stats = options.stats;
    if (stats) {
      const spilled = new Uint8Array(problem.nQuery);
      for (const reply of replies) {
        stats.tiles += reply.tiles ?? 0;
        stats.rescored += reply.rescored ?? 0;
        const s = reply.spilled as Uint8Array;
        for (let q = 0; q < spilled.length; q++) spilled[q] = (spilled[q] as number) | (s[q] as number);
      }
      for (let q = 0; q < spilled.length; q++) stats.overflows += spilled[q] as number;
    }
    options.onProgress?.(problem.nQuery);
    return voteAll(
      problem,
      replies.map((r) => r.lists as NeighbourLists),
    );
  } finally {
    if (progress) clearInterval(progress);
  }
}

function startWorker(path: string, task: WorkerTask): { worker: Worker; reply: Promise<WorkerReply> } {
  const worker = new Worker(path, { workerData: task });
  const reply = new Promise<WorkerReply>((resolvePromise, reject) => {
    let settled = false;
    worker.once("message", (message: WorkerReply) => {
      settled = true;
      if (message.error) reject(new Error(`k-NN worker: ${message.error}`));
      else resolvePromise(message);
      void worker.terminate();
    });
    worker.once("error", (error) => {
      settled = true;
      reject(error);
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`k-NN worker exited (code ${code}) without a result`));
    });
  });
  return { worker, reply };
}

/** The body of a worker thread (knn-worker.ts): runs its share of `task` and returns the reply. */
export async function knnWorkerMain(
  task: WorkerTask,
): Promise<{ reply: WorkerReply; transfer: ArrayBuffer[] }> {
  const queries = task.queries ?? task.references;
  const options: KnnOptions = {
    k: task.k,
    numClasses: task.numClasses,
    ...(task.queryTile === undefined ? {} : { queryTile: task.queryTile }),
    ...(task.referenceTile === undefined ? {} : { referenceTile: task.referenceTile }),
  };
  const problem = makeProblem(task.references, task.labels, queries, task.dim, options);
  if (task.mode === "exact") {
    const [q0, q1] = task.range as [number, number];
    const predictions = exactPredict(
      problem,
      { onProgress: (done) => Atomics.store(task.counter, 0, done) },
      q0,
      q1,
    );
    return { reply: { predictions }, transfer: [predictions.buffer as ArrayBuffer] };
  }
  const engine = await import("../../engine/index.js");
  await engine.initEngine(task.engineInit ?? {});
  const matrix = engine.matrixPrimitive();
  if (!matrix) throw new Error("the engine has no matrix primitive in this worker");
  const plan = planTiles(problem, options) as TilePlan;
  const search = new TiledSearch(problem, plan);
  for (;;) {
    const p = Atomics.add(task.counter, 0, 1);
    if (p >= plan.pairs) break;
    search.runPair(p, matrix.matMulTransposed, matrix.tileCandidates);
  }
  search.finishAll();
  const lists = search.result();
  const spilled = search.spilledQueries();
  return {
    reply: { lists, tiles: search.tiles, rescored: search.rescored, spilled },
    transfer: [lists.dist.buffer, lists.idx.buffer, lists.filled.buffer, spilled.buffer] as ArrayBuffer[],
  };
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
