import { bestIteration, listIterations } from "../../training/index.js";
import { DataError } from "../../util/errors.js";
import type { AbstractScore } from "../abstract-score.js";
import { correctFromLogits } from "../math/correctness.js";

/**
 * Correctness of every sample at every evaluated iteration up to the stop (all for `last`, up to the
 * best iteration for `best`), for CumulativeAccuracy and FirstIteration. The trainer saves the
 * logits of the whole train and dev subsets at every evaluation, so these need no re-inference;
 * iterations without saved outputs fall back to a forward pass of their checkpoint (test subset).
 */
export async function correctnessMatrix(
  score: AbstractScore,
  runDir: string,
  logitsAt: (iterationDir: string) => Promise<Float32Array | null>,
  labels: Int32Array,
  numClasses: number,
): Promise<{ correct: Uint8Array; iterations: number[] }> {
  const stop = score.params.stop as "best" | "last";
  const limit = stop === "best" ? bestIteration(runDir) : Number.POSITIVE_INFINITY;
  const rows: Uint8Array[] = [];
  const iterations: number[] = [];
  for (const it of listIterations(runDir).filter((i) => i.iteration <= limit)) {
    const logits = await logitsAt(it.dir);
    if (!logits) continue;
    rows.push(correctFromLogits(logits, labels, numClasses));
    iterations.push(it.iteration);
  }
  if (rows.length === 0) {
    throw new DataError(
      `No model states found for '${runDir}'\n\twith stop='${stop}': no iteration folder up to ${limit} holds ` +
        `saved ${score.subsetName} outputs or a model`,
    );
  }
  const n = labels.length;
  const correct = new Uint8Array(rows.length * n);
  rows.forEach((row, t) => {
    correct.set(row, t * n);
  });
  return { correct, iterations };
}
