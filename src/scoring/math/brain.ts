/**
 * The arithmetic of FiftyOne Brain's four sample measures (voxel51/fiftyone-brain,
 * `fiftyone/brain/internal/core/{hardness,mistakenness,uniqueness,representativeness}.py`), written
 * from their definitions: uniqueness and representativeness from an embedding, pure functions over
 * row-major arrays. Hardness and mistakenness, measures of a classifier's logits, are
 * src/training/measures/logits.ts (`softmaxEntropy`, `mistakenness`).
 */
import type { Rng } from "../../util/rng.js";
import type { DotProducts } from "./knn/index.js";
import { insertBounded } from "./knn/lists.js";
import { makeProblem } from "./knn/problem.js";
import { planTiles, TiledSearch } from "./knn/tiled.js";

/** FiftyOne's uniqueness weights of the 1st, 2nd and 3rd nearest neighbour's distance. */
export const UNIQUENESS_WEIGHTS: readonly number[] = [0.6, 0.3, 0.1];

/** Exact float64 Euclidean distance between rows i and j. */
function exactDistance(x: Float32Array, d: number, i: number, j: number): number {
  let s = 0;
  const a = i * d;
  const b = j * d;
  for (let t = 0; t < d; t++) {
    const diff = (x[a + t] as number) - (x[b + t] as number);
    s += diff * diff;
  }
  return Math.sqrt(s);
}

/**
 * For every row of x (n × d), the Euclidean distances to its k nearest other rows, ascending (n × k),
 * as scikit-learn's `kneighbors(k + 1)` on the set itself gives them once the first column (the row
 * itself) is dropped. Distances are exact float64. With `dot` (the engine's float32 matrix product)
 * the k-NN's tiled search (./knn/tiled.ts) finds each row's k + 1 nearest rows, itself among them,
 * and those are re-measured exactly; without it (or when its error bound is void) every pair is
 * measured exactly.
 */
export function nearestDistances(
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  dot?: DotProducts,
): Float64Array {
  const neighbours = dot && n > 0 ? tiledNeighbours(x, n, d, k + 1, dot) : null;
  const out = new Float64Array(n * k);
  const row = new Float64Array(k);
  const ids = new Int32Array(k);
  // A full list of +∞: a distance enters when it is smaller than the last, as in the k-NN's lists.
  const filled = new Int32Array(1);
  for (let i = 0; i < n; i++) {
    row.fill(Number.POSITIVE_INFINITY);
    filled[0] = k;
    if (neighbours) {
      const { idx, width } = neighbours;
      for (let c = i * width; c < (i + 1) * width; c++) {
        const j = idx[c] as number;
        if (j !== i) insertBounded(row, ids, filled, 0, k, exactDistance(x, d, i, j), j);
      }
    } else {
      for (let j = 0; j < n; j++)
        if (j !== i) insertBounded(row, ids, filled, 0, k, exactDistance(x, d, i, j), j);
    }
    out.set(row, i * k);
  }
  return out;
}

/** The indices of each row's `k` nearest rows (itself included) by the k-NN's tiled search; null when its bound is void. */
function tiledNeighbours(
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  dot: DotProducts,
): { idx: Int32Array; width: number } | null {
  const problem = makeProblem(x, new Int32Array(n), x, d, { k });
  const plan = planTiles(problem, {});
  if (!plan) return null;
  const search = new TiledSearch(problem, plan);
  for (let p = 0; p < plan.pairs; p++) search.runPair(p, dot);
  search.finishAll();
  return { idx: search.result().idx, width: problem.k };
}

/**
 * FiftyOne's `uniqueness` from each row's ascending nearest-neighbour distances (n × weights.length):
 * the mean of the weighted distances, divided by its largest value over the set. A set of at most
 * K samples is all 1, as FiftyOne has it.
 */
export function uniqueness(
  distances: Float64Array,
  n: number,
  weights: readonly number[] = UNIQUENESS_WEIGHTS,
): Float64Array {
  const k = weights.length;
  const out = new Float64Array(n);
  if (n <= k) return out.fill(1);
  let max = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += (distances[i * k + j] as number) * (weights[j] as number);
    out[i] = s / k;
    max = Math.max(max, out[i] as number);
  }
  if (max > 0) for (let i = 0; i < n; i++) out[i] = (out[i] as number) / max;
  return out;
}

/** Squared float64 distance between row i of x and centre c of centres. */
function squaredToCentre(x: Float32Array, centres: Float64Array, d: number, i: number, c: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const diff = (x[i * d + t] as number) - (centres[c * d + t] as number);
    s += diff * diff;
  }
  return s;
}

/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007): the first centre a uniform draw, each next one a
 * row drawn with probability proportional to its squared distance to the nearest centre chosen so
 * far. Returns the chosen row indices (distinct while the set has k distinct rows).
 */
export function kmeansPlusPlus(x: Float32Array, n: number, d: number, k: number, rng: Rng): Int32Array {
  const chosen = new Int32Array(k);
  const nearest = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  chosen[0] = rng.int(n);
  for (let c = 1; c < k; c++) {
    const last = chosen[c - 1] as number;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const s = exactDistance(x, d, i, last) ** 2;
      if (s < (nearest[i] as number)) nearest[i] = s;
      total += nearest[i] as number;
    }
    if (total === 0) {
      chosen[c] = rng.int(n);
      continue;
    }
    let target = rng.random() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      target -= nearest[i] as number;
      if (target < 0) {
        pick = i;
        break;
      }
    }
    chosen[c] = pick;
  }
  return chosen;
}

export interface KMeansResult {
  /** Cluster of each row. */
  labels: Int32Array;
  /** k × d centres. */
  centres: Float64Array;
  /** Lloyd iterations run. */
  iterations: number;
}

/**
 * Lloyd's k-means from the given initial centres (rows of x): assign every row to its nearest centre
 * (the first on ties), move each centre to the mean of its rows (an empty cluster keeps its centre),
 * until no assignment changes or `maxIterations`.
 */
export function kmeans(
  x: Float32Array,
  n: number,
  d: number,
  initial: Int32Array,
  maxIterations = 300,
): KMeansResult {
  const k = initial.length;
  const centres = new Float64Array(k * d);
  initial.forEach((row, c) => {
    for (let t = 0; t < d; t++) centres[c * d + t] = x[row * d + t] as number;
  });
  const labels = new Int32Array(n).fill(-1);
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    let changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = squaredToCentre(x, centres, d, i, 0);
      for (let c = 1; c < k; c++) {
        const s = squaredToCentre(x, centres, d, i, c);
        if (s < bestD) {
          bestD = s;
          best = c;
        }
      }
      if (labels[i] !== best) {
        labels[i] = best;
        changed = true;
      }
    }
    if (!changed) break;
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const c = labels[i] as number;
      counts[c] = (counts[c] as number) + 1;
      for (let t = 0; t < d; t++) sums[c * d + t] = (sums[c * d + t] as number) + (x[i * d + t] as number);
    }
    for (let c = 0; c < k; c++) {
      const m = counts[c] as number;
      if (m === 0) continue;
      for (let t = 0; t < d; t++) centres[c * d + t] = (sums[c * d + t] as number) / m;
    }
  }
  return { labels, centres, iterations };
}

/**
 * Representativeness from a clustering: each row's Euclidean distance to its cluster's centre,
 * divided by the largest such distance in its cluster (FiftyOne's "local" normalisation), turned
 * into closeness, 1 − d / max: 1 at a cluster's centre, 0 at its farthest member. (FiftyOne's code
 * stores the normalised distance itself under this name; see docs/differences.md.) A cluster whose
 * members all sit on its centre gives them 1.
 */
export function representativeness(
  x: Float32Array,
  n: number,
  d: number,
  clusters: KMeansResult,
): Float64Array {
  const k = clusters.centres.length / d;
  const dist = new Float64Array(n);
  const max = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = clusters.labels[i] as number;
    dist[i] = Math.sqrt(squaredToCentre(x, clusters.centres, d, i, c));
    if ((dist[i] as number) > (max[c] as number)) max[c] = dist[i] as number;
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m = max[clusters.labels[i] as number] as number;
    out[i] = m > 0 ? 1 - (dist[i] as number) / m : 1;
  }
  return out;
}
