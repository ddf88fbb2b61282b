/**
 * Brute-force k-nearest-neighbour classification (euclidean, uniform weights), as the probes of
 * PredictionDepth need it (Baldock et al. 2021, arXiv 2106.09647; aucurriculum's `ParallelKNN`,
 * equivalent to scikit-learn `KNeighborsClassifier(algorithm="brute")`).
 *
 * Two paths with the same result (./exact.ts, ./tiled.ts). The exact path (plain JS) computes every distance in float64 from
 * blocks of queries and references, four queries per pass over a reference row. The tiled path
 * (`dot` given, e.g. the engine's `matMulTransposed`) gets the dot products of a tile of queries
 * against a tile of references from the matrix product ‖q‖² + ‖r‖² − 2·q·rᵀ in float32, keeps every
 * reference whose approximate distance can still be among the k nearest under a rigorous bound on
 * the float32 rounding error, and resolves those candidates with the exact path's float64 distances,
 * so both paths return identical predictions. Memory is O(tile² + N·(D + k)), never an N×N matrix.
 *
 * `knnPredictParallel` (./workers.ts) runs either path on several worker threads (node:worker_threads) over blocks
 * of queries (tile pairs for the tiled path, query ranges for the exact path) and merges their exact
 * neighbour lists; the result is identical to `knnPredict`'s for any thread count.
 */
import { availableParallelism } from "node:os";
import { exactPredict, QUERY_BLOCK } from "./exact.js";
import { voteAll } from "./lists.js";
import { type KnnOptions, makeProblem, type ParallelKnnOptions } from "./problem.js";
import { planProjection, projectedPredict } from "./projected.js";
import { planTiles, TiledSearch } from "./tiled.js";
import { runWorkers } from "./workers.js";

export type { DotProducts, KnnOptions, KnnStats, MatrixProvider, ParallelKnnOptions } from "./problem.js";

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
  const projection =
    options.projection === false ? null : planProjection(problem, options.dot, options.projection);
  if (projection) {
    if (options.stats) options.stats.projectedRank = projection.rank;
    return projectedPredict(problem, projection, { ...options, dot: options.dot });
  }
  const search = new TiledSearch(problem, plan);
  for (let p = 0; p < plan.pairs; p++) {
    search.runPair(p, options.dot, options.candidates);
    options.onProgress?.(Math.floor((problem.nQuery * (p + 1)) / plan.pairs));
  }
  search.finishAll();
  search.addStats(options.stats);
  return voteAll(problem, [search.result()]);
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
    ...(matrix?.exactDistances ? { exactDistances: matrix.exactDistances } : {}),
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
