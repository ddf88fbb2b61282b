/**
 * The projected path of the k-NN: exact neighbours of high-dimensional rows from a search in a
 * low-dimensional space whose distances are rigorous lower bounds of the exact ones (the multi-step
 * scheme of Seidl & Kriegel, "Optimal multi-step k-nearest neighbor search", SIGMOD 1998).
 *
 * Layer activations are close to low rank: on Fashion-MNIST the CNN's pooled conv outputs (512 and
 * 256 values) keep 99.9% of their energy in 32 directions. With B (dim × m) an orthonormal basis of
 * those directions, every row x is described by its m coordinates h = Bᵀx and the length ρ of what
 * is left, x − B·h; for two rows ‖x − y‖² ≥ ‖h_x − h_y‖² + (ρ_x − ρ_y)², the squared distance of the
 * (m + 1)-dimensional "augmented" rows a = [h, ρ]. The search then runs in two passes of the tiled
 * path over the augmented rows, each about as costly as a probe of m + 1 dimensions:
 *  1. the k nearest augmented rows of every query; their exact distances (the exact path's float64
 *     formula) bound the query's k-th exact distance from above (U);
 *  2. every reference whose augmented distance is within what U allows is a candidate, and the
 *     exact distances of the candidates give the k nearest.
 * Every reference that can be among the k nearest is a candidate (the bound below accounts for the
 * basis' departure from orthonormality, the rounding of h, ρ and the float32 augmented rows, the
 * float32 products and the exact path's own rounding), so the neighbours, ties included, are the
 * exact path's. The basis only decides how many candidates there are, never the result.
 */

import type { ExactDistances as NativeExactDistances } from "../../../engine/types.js";
import { insertLex, type NeighbourLists, rowNorms, voteAll } from "./lists.js";
import type { DotProducts, KnnOptions, Problem } from "./problem.js";
import { planTiles, TiledSearch, type TilePlan } from "./tiled.js";

const FLOAT64_EPS = 2 ** -53;
/** Rows sampled for the second-moment matrix the basis comes from. */
const SAMPLE_ROWS = 8192;
/** Ranks tried, smallest first; the largest is also bounded by dim / 4. */
const RANKS = [16, 32, 48, 64];
/**
 * Largest share of the energy a basis may leave out: beyond it the candidates of pass 2 grow to
 * hundreds per query and the exact distances cost more than the products saved (measured on
 * Fashion-MNIST's PredictionDepth probes: 0.1% left gives ~35 candidates per query, 4% ~200).
 */
const MAX_RESIDUAL = 0.0025;
/**
 * From this many dimensions on, the products dominate so much that a rank-64 basis leaving out up to
 * WIDE_MAX_RESIDUAL still pays (the pooled 484-pixel input probe: 3.6% left out, ~180 candidates
 * per query, 19.0 s → 16.2 s).
 */
const WIDE = 384;
const WIDE_MAX_RESIDUAL = 0.05;
/** Orthogonal-iteration sweeps (the basis needs to be good, not converged). */
const SWEEPS = 8;

export interface Projection {
  /** Rank m of the basis. */
  rank: number;
  /** dim × m, row-major, orthonormal columns (float64). */
  basis: Float64Array;
  /** Share of the sampled rows' energy outside the basis. */
  residual: number;
}

/**
 * Whether the projected path should run: a dot-product provider, rows of at least 192 dimensions,
 * enough work (queries × references ≥ 2^24) and a basis of rank ≤ dim / 4 (the smallest of 16, 32,
 * 48, 64) that leaves out at most MAX_RESIDUAL of the sampled rows' energy (WIDE_MAX_RESIDUAL from
 * WIDE dimensions on). `force` (tests) skips these conditions and may fix the rank.
 */
export function planProjection(
  problem: Problem,
  dot: DotProducts,
  force?: { rank?: number } | boolean,
): Projection | null {
  const { dim, nRef, nQuery } = problem;
  if (!force && (dim < 192 || nRef * nQuery < 2 ** 24)) return null;
  const fixed = typeof force === "object" ? force.rank : undefined;
  const maxRank = fixed ?? Math.min(64, Math.floor(dim / 4));
  if (maxRank < 1 || maxRank >= dim) return null;
  const moment = secondMoment(problem.references, nRef, dim, dot);
  let trace = 0;
  for (let d = 0; d < dim; d++) trace += moment[d * dim + d] as number;
  if (!(trace > 0) || !Number.isFinite(trace)) return null;
  const q = orthogonalIteration(moment, dim, maxRank);
  // The leading columns of orthogonal iteration span the leading invariant subspaces.
  const energy = new Float64Array(maxRank + 1);
  for (let j = 0; j < maxRank; j++)
    energy[j + 1] = (energy[j] as number) + rayleigh(moment, q, dim, maxRank, j);
  const residualAt = (m: number) => Math.max(0, 1 - (energy[m] as number) / trace);
  let rank = fixed ?? 0;
  if (!rank) {
    rank = RANKS.find((m) => m <= maxRank && residualAt(m) <= MAX_RESIDUAL) ?? maxRank;
    const allowed = dim >= WIDE ? WIDE_MAX_RESIDUAL : MAX_RESIDUAL;
    if (residualAt(rank) > allowed && !force) return null;
  }
  const basis = new Float64Array(dim * rank);
  for (let d = 0; d < dim; d++)
    for (let j = 0; j < rank; j++) basis[d * rank + j] = q[d * maxRank + j] as number;
  return { rank, basis, residual: residualAt(rank) };
}

/** The projected path: the same predictions as the exact path (see the module comment). */
export function projectedPredict(
  problem: Problem,
  projection: Projection,
  options: KnnOptions & { dot: DotProducts },
): Int32Array {
  return voteAll(problem, [projectedSearch(problem, projection, options)]);
}

/** The exact k nearest (distance, index) pairs of every query, by the projected path. */
export function projectedSearch(
  problem: Problem,
  projection: Projection,
  options: KnnOptions & { dot: DotProducts },
): NeighbourLists {
  const { dim, k, nQuery } = problem;
  const { rank: m, basis } = projection;
  const epsilon = orthonormalityError(basis, dim, m);
  if (!(epsilon < 1e-6)) throw new Error(`k-NN: projection basis is not orthonormal (${epsilon})`);
  const symmetric = problem.queries === problem.references;
  const refs = augment(problem.references, problem.refNorms, basis, dim, m, epsilon);
  const queries = symmetric ? refs : augment(problem.queries, problem.queryNorms, basis, dim, m, epsilon);
  const refNorms = rowNorms(refs.rows, problem.nRef, m + 1);
  const augmented: Problem = {
    references: refs.rows,
    queries: queries.rows,
    labels: problem.labels,
    dim: m + 1,
    k,
    numClasses: problem.numClasses,
    nRef: problem.nRef,
    nQuery,
    refNorms,
    queryNorms: symmetric ? refNorms : rowNorms(queries.rows, nQuery, m + 1),
  };
  const plan = planTiles(augmented, options);
  if (!plan) throw new Error("k-NN: the augmented rows are out of the float32 range");
  const progress = (share: number, done: number) =>
    options.onProgress?.(Math.floor((nQuery * (share + done)) / 2));

  // Pass 1: the k nearest augmented rows; their exact distances bound the k-th exact distance.
  const first = new TiledSearch(augmented, plan);
  for (let p = 0; p < plan.pairs; p++) {
    first.runPair(p, options.dot, options.candidates);
    progress(0, (p + 1) / plan.pairs);
  }
  first.finishAll();
  const near = first.result();
  const exact = new ExactDistances(problem, options.exactDistances);
  let maxEta = 0;
  for (let j = 0; j < problem.nRef; j++) maxEta = Math.max(maxEta, refs.eta[j] as number);
  let maxNorm = 0;
  for (let j = 0; j < problem.nRef; j++) maxNorm = Math.max(maxNorm, problem.refNorms[j] as number);
  const gamma64 = (dim * FLOAT64_EPS) / (1 - dim * FLOAT64_EPS);
  const keep = new Float64Array(nQuery);
  // The final lists start with the pass-1 neighbours' exact distances; pass 2 skips those pairs.
  const lists: NeighbourLists = {
    dist: new Float64Array(nQuery * k),
    idx: new Int32Array(nQuery * k),
    filled: new Int32Array(nQuery),
  };
  const nearDist = new Float64Array(k);
  for (let q = 0; q < nQuery; q++) {
    exact.distances(q, near.idx, q * k, k, nearDist);
    let upper = 0;
    for (let t = 0; t < k; t++) {
      const d = nearDist[t] as number;
      upper = Math.max(upper, d);
      insertLex(lists, q, k, d, near.idx[q * k + t] as number);
    }
    // d_exact ≥ ‖x − y‖² − pathError; ‖x − y‖² ≥ ‖ã_x − ã_y‖² / (1 + ε); ‖ã − a‖ ≤ η; the tile's
    // approximate augmented distance is within 2·e of ‖a_x − a_y‖².
    const pathError = 4 * (gamma64 + 4 * FLOAT64_EPS) * ((problem.queryNorms[q] as number) + maxNorm);
    const radius = Math.sqrt((1 + epsilon) * (upper + pathError)) + (queries.eta[q] as number) + maxEta;
    keep[q] = (radius * radius + 2 * (plan.errors[q] as number)) * (1 + 1e-9);
  }
  const stats = options.stats;
  first.addStats(stats);

  // Pass 2: every reference within the bound is a candidate; exact distances decide.
  const capacity = Math.max(plan.qTile, plan.rTile);
  const pending = new Int32Array(capacity);
  const pendingDist = new Float64Array(capacity);
  const visit: Visit = (q, base, index, from, to) => {
    const nearBase = q * k;
    let n = 0;
    for (let c = from; c < to; c++) {
      const j = base + (index[c] as number);
      let seen = false;
      for (let t = 0; t < k && !seen; t++) seen = near.idx[nearBase + t] === j;
      if (!seen) pending[n++] = j;
    }
    exact.distances(q, pending, 0, n, pendingDist);
    for (let i = 0; i < n; i++) insertLex(lists, q, k, pendingDist[i] as number, pending[i] as number);
  };
  for (let p = 0; p < plan.pairs; p++) {
    rangePair(augmented, plan, p, keep, options.dot, options.candidates, visit);
    progress(1, (p + 1) / plan.pairs);
  }
  if (stats) {
    stats.tiles += plan.pairs;
    stats.rescored += exact.count;
  }
  return lists;
}

/** The exact path's float64 distance between query q and reference j, summed in the same order. */
class ExactDistances {
  count = 0;
  constructor(
    private readonly problem: Problem,
    private readonly native?: NativeExactDistances,
  ) {}

  distance(q: number, j: number): number {
    const { queries, references, dim, queryNorms, refNorms } = this.problem;
    const a = q * dim;
    const b = j * dim;
    let s = 0;
    for (let d = 0; d < dim; d++) s += (queries[a + d] as number) * (references[b + d] as number);
    this.count++;
    return Math.max((queryNorms[q] as number) + (refNorms[j] as number) - 2 * s, 0);
  }

  /**
   * `distance(q, idx[from + t])` into out[t] for t < count: the engine's native loop where there is
   * one, else four references per pass over the query (four independent sums); both sum in the
   * order of `distance`, so the values are identical.
   */
  distances(q: number, idx: Int32Array, from: number, count: number, out: Float64Array): void {
    const { queries, references, dim, queryNorms, refNorms } = this.problem;
    if (this.native) {
      this.native(queries, q, queryNorms[q] as number, references, refNorms, dim, idx, from, count, out);
      this.count += count;
      return;
    }
    const a = q * dim;
    const qn = queryNorms[q] as number;
    let t = 0;
    for (; t + 4 <= count; t += 4) {
      const j0 = idx[from + t] as number;
      const j1 = idx[from + t + 1] as number;
      const j2 = idx[from + t + 2] as number;
      const j3 = idx[from + t + 3] as number;
      const b0 = j0 * dim;
      const b1 = j1 * dim;
      const b2 = j2 * dim;
      const b3 = j3 * dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let d = 0; d < dim; d++) {
        const x = queries[a + d] as number;
        s0 += x * (references[b0 + d] as number);
        s1 += x * (references[b1 + d] as number);
        s2 += x * (references[b2 + d] as number);
        s3 += x * (references[b3 + d] as number);
      }
      out[t] = Math.max(qn + (refNorms[j0] as number) - 2 * s0, 0);
      out[t + 1] = Math.max(qn + (refNorms[j1] as number) - 2 * s1, 0);
      out[t + 2] = Math.max(qn + (refNorms[j2] as number) - 2 * s2, 0);
      out[t + 3] = Math.max(qn + (refNorms[j3] as number) - 2 * s3, 0);
    }
    this.count += t;
    for (; t < count; t++) out[t] = this.distance(q, idx[from + t] as number);
  }
}

/** Hands query q the candidate references base + index[c], c ∈ [from, to), in ascending order. */
type Visit = (q: number, base: number, index: Int32Array, from: number, to: number) => void;

/**
 * Hands visit every pair of tile pair p whose approximate augmented distance is ≤ keep[q] (rows,
 * and columns for the symmetric half), through the engine's fused filter where there is one.
 */
function rangePair(
  problem: Problem,
  plan: TilePlan,
  p: number,
  keep: Float64Array,
  dot: DotProducts,
  candidates: KnnOptions["candidates"],
  visit: Visit,
): void {
  const { queries, references, dim, nQuery, nRef, queryNorms, refNorms } = problem;
  const i0 = (plan.pairI[p] as number) * plan.qTile;
  const j0 = (plan.pairJ[p] as number) * plan.rTile;
  const nq = Math.min(nQuery, i0 + plan.qTile) - i0;
  const nr = Math.min(nRef, j0 + plan.rTile) - j0;
  const columns = plan.symmetric && j0 !== i0;
  const a = queries.subarray(i0 * dim, (i0 + nq) * dim);
  const b = references.subarray(j0 * dim, (j0 + nr) * dim);
  if (candidates) {
    const bounds = (q0: number, n: number) => ({
      keep: keep.subarray(q0, q0 + n),
      errors: plan.errors.subarray(q0, q0 + n),
    });
    const lists = candidates(
      a,
      nq,
      b,
      nr,
      dim,
      queryNorms.subarray(i0, i0 + nq),
      refNorms.subarray(j0, j0 + nr),
      1,
      bounds(i0, nq),
      columns ? bounds(j0, nr) : null,
    );
    for (let r = 0; r < nq; r++) {
      visit(i0 + r, j0, lists.rowIndex, lists.rowStart[r] as number, lists.rowStart[r + 1] as number);
    }
    if (columns) {
      const start = lists.colStart as Int32Array;
      const index = lists.colIndex as Int32Array;
      for (let t = 0; t < nr; t++) visit(j0 + t, i0, index, start[t] as number, start[t + 1] as number);
    }
    return;
  }
  const dots = dot(a, nq, b, nr, dim);
  const distance = (r: number, t: number) =>
    Math.max(
      (queryNorms[i0 + r] as number) + (refNorms[j0 + t] as number) - 2 * (dots[r * nr + t] as number),
      0,
    );
  const found = new Int32Array(Math.max(nq, nr));
  for (let r = 0; r < nq; r++) {
    let n = 0;
    for (let t = 0; t < nr; t++) if (distance(r, t) <= (keep[i0 + r] as number)) found[n++] = t;
    visit(i0 + r, j0, found, 0, n);
  }
  if (!columns) return;
  for (let t = 0; t < nr; t++) {
    let n = 0;
    for (let r = 0; r < nq; r++) if (distance(r, t) <= (keep[j0 + t] as number)) found[n++] = r;
    visit(j0 + t, i0, found, 0, n);
  }
}

/**
 * The augmented rows [Bᵀx, ρ] in float32 and, per row, η ≥ the distance between the stored row and
 * the exact [Bᵀx, ‖x − P·x‖] (P the orthogonal projector onto the basis' span): the float64
 * rounding of Bᵀx, the float32 rounding of the stored values, and the uncertainty of ρ, which is
 * only known through ‖x‖² − (Bᵀx)ᵀ(BᵀB)⁻¹(Bᵀx) with ‖BᵀB − I‖ ≤ ε.
 */
function augment(
  rows: Float32Array,
  norms: Float64Array,
  basis: Float64Array,
  dim: number,
  m: number,
  epsilon: number,
): { rows: Float32Array; eta: Float64Array } {
  const n = norms.length;
  const out = new Float32Array(n * (m + 1));
  const eta = new Float64Array(n);
  const h = new Float64Array(m);
  const gamma64 = (dim * FLOAT64_EPS) / (1 - dim * FLOAT64_EPS);
  const gammaM = (2 * m * FLOAT64_EPS) / (1 - 2 * m * FLOAT64_EPS);
  // Basis columns as rows (m × dim): four coordinates per pass over a row, four independent sums.
  const bt = new Float64Array(m * dim);
  for (let d = 0; d < dim; d++) for (let j = 0; j < m; j++) bt[j * dim + d] = basis[d * m + j] as number;
  for (let i = 0; i < n; i++) {
    const base = i * dim;
    let j = 0;
    for (; j + 4 <= m; j += 4) {
      const c0 = j * dim;
      const c1 = c0 + dim;
      const c2 = c1 + dim;
      const c3 = c2 + dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let d = 0; d < dim; d++) {
        const x = rows[base + d] as number;
        s0 += x * (bt[c0 + d] as number);
        s1 += x * (bt[c1 + d] as number);
        s2 += x * (bt[c2 + d] as number);
        s3 += x * (bt[c3 + d] as number);
      }
      h[j] = s0;
      h[j + 1] = s1;
      h[j + 2] = s2;
      h[j + 3] = s3;
    }
    for (; j < m; j++) {
      let s0 = 0;
      for (let d = 0; d < dim; d++) s0 += (rows[base + d] as number) * (bt[j * dim + d] as number);
      h[j] = s0;
    }
    let hh = 0;
    for (let j = 0; j < m; j++) hh += (h[j] as number) * (h[j] as number);
    const n2 = norms[i] as number;
    const xNorm = Math.sqrt(n2);
    // |ĥ_j − (Bᵀx)_j| ≤ γ_dim · ‖x‖ · ‖b_j‖, ‖b_j‖² ≤ 1 + ε.
    const beta = Math.sqrt(m) * gamma64 * xNorm * Math.sqrt(1 + epsilon) * (1 + 1e-6);
    const hNorm = Math.sqrt(hh) * (1 + gammaM);
    const hNormLow = Math.max(0, Math.sqrt(hh) * (1 - gammaM) - beta);
    const hNormHigh = hNorm + beta;
    const lowSq = n2 * (1 - gamma64) - (hNormHigh * hNormHigh) / (1 - epsilon);
    const highSq = n2 * (1 + gamma64) - (hNormLow * hNormLow) / (1 + epsilon);
    const rhoLow = Math.sqrt(Math.max(0, lowSq)) * (1 - 4 * FLOAT64_EPS);
    const rhoHigh = Math.sqrt(Math.max(0, highSq)) * (1 + 4 * FLOAT64_EPS);
    const o = i * (m + 1);
    let stored = 0;
    for (let j = 0; j < m; j++) {
      out[o + j] = h[j] as number;
      const r = (out[o + j] as number) - (h[j] as number);
      stored += r * r;
    }
    out[o + m] = (rhoLow + rhoHigh) / 2;
    const rho = out[o + m] as number;
    const rhoError = Math.max(Math.abs(rho - rhoLow), Math.abs(rhoHigh - rho));
    eta[i] = (Math.sqrt(stored) * (1 + 1e-6) + beta + rhoError) * (1 + 1e-9) + 1e-300;
  }
  return { rows: out, eta };
}

/** ε ≥ ‖BᵀB − I‖₂: the Frobenius norm of the computed difference plus its rounding. */
function orthonormalityError(basis: Float64Array, dim: number, m: number): number {
  const gamma64 = (dim * FLOAT64_EPS) / (1 - dim * FLOAT64_EPS);
  let sum = 0;
  let rounding = 0;
  for (let a = 0; a < m; a++) {
    for (let b = a; b < m; b++) {
      let s = 0;
      let abs = 0;
      for (let d = 0; d < dim; d++) {
        const p = (basis[d * m + a] as number) * (basis[d * m + b] as number);
        s += p;
        abs += Math.abs(p);
      }
      const e = s - (a === b ? 1 : 0);
      sum += (a === b ? 1 : 2) * e * e;
      rounding = Math.max(rounding, gamma64 * abs);
    }
  }
  return (Math.sqrt(sum) + m * rounding * 2) * (1 + 1e-6);
}

/** XᵀX of (up to SAMPLE_ROWS evenly spaced) rows of X, through the engine's product, in float64. */
function secondMoment(rows: Float32Array, n: number, dim: number, dot: DotProducts): Float64Array {
  const s = Math.min(n, SAMPLE_ROWS);
  const transposed = new Float32Array(dim * s);
  for (let i = 0; i < s; i++) {
    const r = Math.floor((i * n) / s) * dim;
    for (let d = 0; d < dim; d++) transposed[d * s + i] = rows[r + d] as number;
  }
  return Float64Array.from(dot(transposed, dim, transposed, dim, s));
}

/**
 * Orthogonal iteration: dim × m columns, orthonormalised after every product with the symmetric
 * matrix, from a fixed pseudo-random start (the result never depends on it, only the speed).
 */
function orthogonalIteration(matrix: Float64Array, dim: number, m: number): Float64Array {
  let q = new Float64Array(dim * m);
  let state = 0x9e3779b9;
  for (let i = 0; i < q.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    q[i] = state / 2 ** 32 - 0.5;
  }
  orthonormalise(q, dim, m);
  const next = new Float64Array(dim * m);
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    next.fill(0);
    for (let r = 0; r < dim; r++) {
      const o = r * m;
      for (let c = 0; c < dim; c++) {
        const v = matrix[r * dim + c] as number;
        if (v === 0) continue;
        const b = c * m;
        for (let j = 0; j < m; j++) next[o + j] = (next[o + j] as number) + v * (q[b + j] as number);
      }
    }
    q = Float64Array.from(next);
    orthonormalise(q, dim, m);
  }
  return q;
}

/**
 * Modified Gram–Schmidt, twice, on the columns of a dim × m row-major matrix (m < dim); a column
 * that vanishes is replaced by the next unit vector and orthonormalised again.
 */
function orthonormalise(q: Float64Array, dim: number, m: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < m; j++) {
      for (let attempt = 0; attempt <= dim; attempt++) {
        for (let i = 0; i < j; i++) {
          let s = 0;
          for (let d = 0; d < dim; d++) s += (q[d * m + i] as number) * (q[d * m + j] as number);
          for (let d = 0; d < dim; d++)
            q[d * m + j] = (q[d * m + j] as number) - s * (q[d * m + i] as number);
        }
        let norm = 0;
        for (let d = 0; d < dim; d++) norm += (q[d * m + j] as number) ** 2;
        norm = Math.sqrt(norm);
        if (norm > 1e-8) {
          for (let d = 0; d < dim; d++) q[d * m + j] = (q[d * m + j] as number) / norm;
          break;
        }
        for (let d = 0; d < dim; d++) q[d * m + j] = d === (j + attempt) % dim ? 1 : 0;
      }
    }
  }
}

/** qⱼᵀ·M·qⱼ for column j of q (dim × m). */
function rayleigh(matrix: Float64Array, q: Float64Array, dim: number, m: number, j: number): number {
  let s = 0;
  for (let r = 0; r < dim; r++) {
    let row = 0;
    for (let c = 0; c < dim; c++) row += (matrix[r * dim + c] as number) * (q[c * m + j] as number);
    s += (q[r * m + j] as number) * row;
  }
  return s;
}
