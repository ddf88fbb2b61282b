import type { RunConfig } from "../config/schema.js";
import { perSampleCrossEntropy } from "../training/criteria.js";
import {
  cumulativeAccuracy,
  firstIteration,
  forgettingEvents,
  meanOverEvaluations,
  stackCorrectness,
} from "../training/measures/dynamics.js";
import {
  correctFromLogits,
  el2n,
  labelProbabilities,
  logitMargins,
  mistakenness,
  softmaxEntropy,
} from "../training/measures/logits.js";
import { ConfigError } from "../util/errors.js";

/**
 * Re-scoring a curriculum from the run's own outputs (`curriculum.rescore_every`): a score computed
 * once, before training, from other runs drifts away from what the model being trained finds hard.
 * Every N evaluations the pace manager recomputes the run's score type from the per-sample train
 * outputs this run saved so far and reorders the curriculum from then on, the re-scoring of
 * "RePB" (ICLR 2026). Only scores that are functions of saved outputs can be recomputed this way;
 * each is its scoring function's measure (src/training/measures/, which src/scoring/functions/
 * computes too), turned so that a higher value is harder. The drift between two snapshots is
 * Spearman's correlation (`spearman`, src/training/measures/ranks.ts).
 */

/**
 * A score recomputable from saved train logits, in two steps so that each evaluation's outputs are
 * read once however often the run re-scores: a per-sample statistic of one evaluation, then the
 * difficulty (a higher value is harder) from the statistics of the evaluations in the window.
 */
export interface Rescorer {
  /** `latest`: the outputs of the newest evaluation only; `all`: every evaluation so far. */
  readonly window: "latest" | "all";
  /** The formula, and the scoring function it is that of. */
  readonly describe: string;
  /** Per-sample statistic of one evaluation's n × c row-major logits. */
  perEvaluation(logits: Float32Array, labels: Int32Array, numClasses: number): Float64Array;
  /** Difficulty of each sample from the statistics of the window's evaluations, oldest first. */
  combine(stats: readonly Float64Array[]): Float64Array;
}

/** Difficulty from the logits of the window's evaluations (oldest first): both steps at once. */
export function rescore(
  rescorer: Rescorer,
  sequence: readonly Float32Array[],
  labels: Int32Array,
  numClasses: number,
): Float64Array {
  return rescorer.combine(sequence.map((logits) => rescorer.perEvaluation(logits, labels, numClasses)));
}

/** The newest evaluation's statistic (the `latest` window holds one). */
function newest(stats: readonly Float64Array[]): Float64Array {
  const values = stats[stats.length - 1];
  if (!values) throw new Error("re-scoring needs the outputs of at least one evaluation");
  return values;
}

/** `f` of the T × n correctness matrix of the window's evaluations (each a row of 0s and 1s). */
function ofCorrectness<T>(
  stats: readonly Float64Array[],
  f: (correct: Uint8Array, n: number, iterations: number) => T,
): T {
  return f(stackCorrectness(stats), newest(stats).length, stats.length);
}

const correctness = (logits: Float32Array, labels: Int32Array, c: number) =>
  Float64Array.from(correctFromLogits(logits, labels, c));
const negated = (values: Float64Array) => values.map((v) => -v);

/** The score types that re-scoring can recompute, by scoring `type`. */
export const RESCORERS: Readonly<Record<string, Rescorer>> = Object.freeze({
  CELoss: {
    window: "latest",
    describe: "per-sample cross-entropy of the newest evaluation (CELoss)",
    perEvaluation: (logits, labels, c) => Float64Array.from(perSampleCrossEntropy(logits, labels, c)),
    combine: newest,
  },
  EL2N: {
    window: "latest",
    describe: "‖softmax(z) − onehot(y)‖₂ of the newest evaluation (EL2N)",
    perEvaluation: el2n,
    combine: newest,
  },
  Hardness: {
    window: "latest",
    describe: "entropy of the softmax of the newest evaluation (Hardness)",
    perEvaluation: (logits, labels, c) => softmaxEntropy(logits, labels.length, c),
    combine: newest,
  },
  Mistakenness: {
    window: "latest",
    describe:
      "(m·exp(−H) + 1)/2 of the newest evaluation, m = +1 when the prediction is wrong (Mistakenness)",
    perEvaluation: mistakenness,
    combine: newest,
  },
  CumulativeAccuracy: {
    window: "all",
    describe:
      "1 − the fraction of evaluations so far that classify the sample correctly (CumulativeAccuracy)",
    perEvaluation: correctness,
    combine: (stats) => {
      const { sum, count } = ofCorrectness(stats, cumulativeAccuracy);
      return Float64Array.from(sum, (s, i) => 1 - s / (count[i] as number));
    },
  },
  FirstIteration: {
    window: "all",
    describe: "(T − L)/T, L the trailing run of correct evaluations among the T so far (FirstIteration)",
    perEvaluation: correctness,
    combine: (stats) => ofCorrectness(stats, firstIteration),
  },
  Forgetting: {
    window: "all",
    describe: "forgetting events among the evaluations so far, T when never correct (Forgetting)",
    perEvaluation: correctness,
    combine: (stats) => ofCorrectness(stats, forgettingEvents),
  },
  AUM: {
    window: "all",
    describe: "minus the mean logit margin z_y − max_{k≠y} z_k over the evaluations so far (AUM)",
    perEvaluation: logitMargins,
    combine: (stats) => negated(meanOverEvaluations(stats)),
  },
  Cartography: {
    window: "all",
    describe:
      "minus the confidence, the mean softmax probability of the label over the evaluations so far (Cartography)",
    perEvaluation: labelProbabilities,
    combine: (stats) => negated(meanOverEvaluations(stats)),
  },
});

/** The score types `curriculum.rescore_every` accepts. */
export const RESCORABLE_TYPES: readonly string[] = Object.keys(RESCORERS);

/**
 * The re-scoring of a curriculum config: null when `rescore_every` is absent or null; its rescorer
 * and period otherwise. A score that is not a function of the run's saved train outputs (a
 * model-based or Predefined score, a custom module), or a run that saves no train outputs, is a
 * ConfigError naming the key.
 */
export function rescoringOf(config: RunConfig): { every: number; rescorer: Rescorer; type: string } | null {
  const every = config.curriculum.rescore_every;
  if (every === undefined || every === null) return null;
  const scoring = config.curriculum.scoring;
  const type = scoring.type ?? scoring.id;
  const rescorer = RESCORERS[type];
  if (!rescorer) {
    throw new ConfigError(
      "curriculum.rescore_every",
      `re-scoring recomputes the score from the run's own train outputs, which the score '${scoring.id}' of type '${type}' ` +
        `is not a function of (expected a score of type ${RESCORABLE_TYPES.join(", ")}; or remove the key)`,
    );
  }
  if (!config.save_train_outputs) {
    throw new ConfigError(
      "curriculum.rescore_every",
      "re-scoring reads the train outputs the run saves at each evaluation; set save_train_outputs: true",
    );
  }
  return { every, rescorer, type };
}

/**
 * The evaluations at and before `iteration` (the trainer evaluates every `eval_frequency`
 * iterations and at the last), oldest first.
 */
export function evaluationsUpTo(iteration: number, evalFrequency: number, total: number): number[] {
  const out: number[] = [];
  for (let i = evalFrequency; i <= Math.min(iteration, total); i += evalFrequency) out.push(i);
  if (iteration >= total && total % evalFrequency !== 0) out.push(total);
  return out;
}

/**
 * Whether the curriculum is re-scored after the evaluation at `iteration`: every `every`-th
 * evaluation, except at the end of training (nothing is left to reorder).
 */
export function isRescoreIteration(
  iteration: number,
  evalFrequency: number,
  every: number,
  total: number,
): boolean {
  return iteration < total && iteration % evalFrequency === 0 && (iteration / evalFrequency) % every === 0;
}
