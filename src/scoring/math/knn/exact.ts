/**
 * The exact path of the k-NN: every distance in float64 from blocks of queries and references, four
 * queries per pass over a reference row.
 */
import { insertBounded, vote } from "./lists.js";
import type { KnnOptions, Problem } from "./problem.js";

/** Queries per block (their k-best lists live across reference blocks). */
export const QUERY_BLOCK = 64;
/** References per block: 256 rows of 512 float32 = 512 KB, about an L2 cache. */
export const REFERENCE_BLOCK = 256;

export function exactPredict(problem: Problem, options: KnnOptions, q0 = 0, q1 = problem.nQuery): Int32Array {
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
