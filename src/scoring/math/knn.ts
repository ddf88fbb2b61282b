/**
 * Brute-force k-nearest-neighbour classification (euclidean, uniform weights), as the probes of
 * PredictionDepth need it (Baldock et al. 2021, arXiv 2106.09647; aucurriculum's `ParallelKNN`,
 * equivalent to scikit-learn `KNeighborsClassifier(algorithm="brute")`).
 *
 * Queries and references are processed in cache-sized blocks: distances are computed four queries
 * at a time (one pass over a reference row serves four dot products) and fed straight into a
 * per-query bounded sorted list of the k best, so memory is O(block·k + N), never an N×N matrix.
 */
export interface KnnOptions {
  /** Neighbours per query (k = 30 in the paper and aucurriculum). */
  k?: number;
  /** Number of classes; default max(label) + 1. */
  numClasses?: number;
  /** Called after each block of queries with the number of queries done (progress bars). */
  onProgress?: (done: number) => void;
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
  const nQuery = queries.length / dim;
  const k = Math.min(options.k ?? 30, nRef);
  if (k < 1) throw new Error("k-NN: needs at least one reference and k ≥ 1");
  let numClasses = options.numClasses ?? 0;
  if (!numClasses)
    for (let i = 0; i < nRef; i++) numClasses = Math.max(numClasses, (labels[i] as number) + 1);

  const refNorms = rowNorms(references, nRef, dim);
  const queryNorms = queries === references ? refNorms : rowNorms(queries, nQuery, dim);
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
      votes.fill(0);
      for (let t = 0; t < k; t++) {
        const label = labels[bestIdx[slot * k + t] as number] as number;
        votes[label] = (votes[label] as number) + 1;
      }
      let best = 0;
      for (let c = 1; c < numClasses; c++) if ((votes[c] as number) > (votes[best] as number)) best = c;
      predictions[q] = best;
    }
    options.onProgress?.(bEnd);
  }
  return predictions;
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
