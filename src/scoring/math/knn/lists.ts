/**
 * The k-NN's neighbour lists: the k smallest (distance, index) pairs per query, kept sorted by
 * insertion, the majority vote over them, and the squared row norms both paths start from.
 */
import type { Problem } from "./problem.js";

/** The exact k nearest (distance, index) pairs per query, sorted by distance, then index. */
export interface NeighbourLists {
  dist: Float64Array;
  idx: Int32Array;
  filled: Int32Array;
}

/** Keeps the k smallest (distance, index) pairs of slot w sorted ascending; strict < keeps lower indices on ties. */
export function insertBounded(
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

/**
 * Keeps the k smallest (distance, index) pairs of slot w in lexicographic order, whatever the order
 * of insertion: the same set as the exact path's scan in reference order with strict comparisons.
 */
export function insertLex(lists: NeighbourLists, w: number, k: number, d: number, j: number): void {
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
export function voteAll(problem: Problem, parts: NeighbourLists[]): Int32Array {
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

/** Majority vote over the k neighbour indices at idx[base..base+k); a tie goes to the lowest class. */
export function vote(
  idx: Int32Array,
  base: number,
  k: number,
  labels: Int32Array,
  votes: Int32Array,
): number {
  votes.fill(0);
  for (let t = 0; t < k; t++) {
    const label = labels[idx[base + t] as number] as number;
    votes[label] = (votes[label] as number) + 1;
  }
  let best = 0;
  for (let c = 1; c < votes.length; c++) if ((votes[c] as number) > (votes[best] as number)) best = c;
  return best;
}

export function rowNorms(data: Float32Array, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let d = i * dim, end = d + dim; d < end; d++) s += (data[d] as number) * (data[d] as number);
    out[i] = s;
  }
  return out;
}
