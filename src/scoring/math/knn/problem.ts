/**
 * The k-NN's inputs and options, shared by its exact and tiled paths and its worker threads: one
 * problem (references, labels, queries, k, classes and squared row norms) and the options that
 * choose the path.
 */
import type {
  ExactDistances,
  MatMulTransposed,
  MatrixPrimitive,
  TileCandidates,
} from "../../../engine/types.js";
import { rowNorms } from "./lists.js";

/** a·bᵀ of row-major a (rowsA × dim) and b (rowsB × dim): the engine's matrix product. */
export type DotProducts = MatMulTransposed;

/**
 * A matrix-product provider and how it may be parallelised: the engine's `matrixPrimitive()`
 * (src/engine/types.ts); a test may give its own.
 */
export type MatrixProvider = Omit<MatrixPrimitive, "engine">;

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
  /** The engine's native exact distances (the JS formula and order), used by the projected path. */
  exactDistances?: ExactDistances;
  /** Queries per tile of the tiled path (default 1024; when queries are the references, `referenceTile`). */
  queryTile?: number;
  /** References per tile of the tiled path (default 2048). */
  referenceTile?: number;
  /** Filled by the tiled path: how much exact work the float32 error bound left over. */
  stats?: KnnStats;
  /**
   * The projected path (./projected.ts) for wide rows of low rank: by default chosen when it pays
   * (see `planProjection`); false never, true or {rank} always where a `dot` is given (tests).
   */
  projection?: boolean | { rank?: number };
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
  /** Rank of the projected path's basis when it ran (see ./projected.ts). */
  projectedRank?: number;
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

export interface Problem {
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

export function makeProblem(
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
