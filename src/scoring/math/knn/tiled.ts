/**
 * The tiled path of the k-NN: float32 product tiles from the engine, a rigorous bound on their
 * rounding error, and the exact path's float64 distances for the candidates the bound leaves.
 */
import type { QueryBounds, TileCandidates } from "../../../engine/types.js";
import { insertLex, type NeighbourLists } from "./lists.js";
import type { DotProducts, KnnOptions, KnnStats, Problem } from "./problem.js";

/** Unit roundoff of float32 and float64. */
const FLOAT32_EPS = 2 ** -24;
const FLOAT64_EPS = 2 ** -53;
/** Smallest normal float32: bounds the absolute error a product loses to underflow. */
const FLOAT32_MIN_NORMAL = 2 ** -126;

export interface TilePlan {
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
export function planTiles(problem: Problem, options: KnnOptions): TilePlan | null {
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
export class TiledSearch {
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
   * would, re-checked against the bound as it tightens. A finite bound only tightens during a scan,
   * so a pair the filter drops would have been dropped by the scan too; an infinite one is settled
   * by the filter from the tile's k nearest (TileCandidates), which drops only pairs that cannot be
   * among the k nearest. The same result.
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
    const bounds = (q0: number, n: number): QueryBounds => {
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
