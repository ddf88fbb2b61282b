import type { RunConfig } from "../config/schema.js";
import { perSampleCrossEntropy } from "../training/criteria.js";
import { argmaxRow } from "../training/metrics.js";
import { ConfigError } from "../util/errors.js";

/**
 * Re-scoring a curriculum from the run's own outputs (`curriculum.rescore_every`): a score computed
 * once, before training, from other runs drifts away from what the model being trained finds hard.
 * Every N evaluations the pace manager recomputes the run's score type from the per-sample train
 * outputs this run saved so far and reorders the curriculum from then on, the re-scoring of
 * "RePB" (ICLR 2026). Only scores that are functions of saved outputs can be recomputed this way;
 * each is the formula of its scoring function (src/scoring/functions/, whose maths the tests
 * compare these with), turned so that a higher value is harder.
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

/** 1 where the arg-max logit is the label (the trainer's argmax, so ties agree with the metrics). */
function correctness(logits: Float32Array, labels: Int32Array, c: number): Float64Array {
  return Float64Array.from(labels, (y, i) => (argmaxRow(logits, i, c) === y ? 1 : 0));
}

/** Softmax of row i (float64, max-shifted). */
function softmaxRow(logits: Float32Array, i: number, c: number): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < c; k++) max = Math.max(max, logits[i * c + k] as number);
  const p = new Float64Array(c);
  let sum = 0;
  for (let k = 0; k < c; k++) {
    p[k] = Math.exp((logits[i * c + k] as number) - max);
    sum += p[k] as number;
  }
  for (let k = 0; k < c; k++) p[k] = (p[k] as number) / sum;
  return p;
}

/** Entropy of the softmax of row i. */
function entropyRow(logits: Float32Array, i: number, c: number): number {
  let h = 0;
  for (const p of softmaxRow(logits, i, c)) if (p > 0) h -= p * Math.log(p);
  return h;
}

/** The newest evaluation's statistic (the `latest` window holds one). */
function newest(stats: readonly Float64Array[]): Float64Array {
  const values = stats[stats.length - 1];
  if (!values) throw new Error("re-scoring needs the outputs of at least one evaluation");
  return values;
}

/** `f` of each sample's statistics over the evaluations, oldest first. */
function perSample(stats: readonly Float64Array[], f: (row: readonly number[]) => number): Float64Array {
  return Float64Array.from(newest(stats), (_, i) => f(stats.map((s) => s[i] as number)));
}

const mean = (row: readonly number[]) => row.reduce((a, b) => a + b, 0) / row.length;

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
    perEvaluation: (logits, labels, c) =>
      Float64Array.from(labels, (y, i) =>
        Math.sqrt(softmaxRow(logits, i, c).reduce((sum, p, k) => sum + (p - (k === y ? 1 : 0)) ** 2, 0)),
      ),
    combine: newest,
  },
  Hardness: {
    window: "latest",
    describe: "entropy of the softmax of the newest evaluation (Hardness)",
    perEvaluation: (logits, labels, c) => Float64Array.from(labels, (_, i) => entropyRow(logits, i, c)),
    combine: newest,
  },
  Mistakenness: {
    window: "latest",
    describe:
      "(m·exp(−H) + 1)/2 of the newest evaluation, m = +1 when the prediction is wrong (Mistakenness)",
    perEvaluation: (logits, labels, c) =>
      Float64Array.from(labels, (y, i) => {
        const m = argmaxRow(logits, i, c) === y ? -1 : 1;
        return (m * Math.exp(-entropyRow(logits, i, c)) + 1) / 2;
      }),
    combine: newest,
  },
  CumulativeAccuracy: {
    window: "all",
    describe:
      "1 − the fraction of evaluations so far that classify the sample correctly (CumulativeAccuracy)",
    perEvaluation: correctness,
    combine: (stats) => perSample(stats, (row) => 1 - row.reduce((a, b) => a + b, 0) / row.length),
  },
  FirstIteration: {
    window: "all",
    describe: "(T − L)/T, L the trailing run of correct evaluations among the T so far (FirstIteration)",
    perEvaluation: correctness,
    combine: (stats) =>
      perSample(stats, (row) => {
        let trailing = 0;
        for (let t = row.length - 1; t >= 0 && row[t] === 1; t--) trailing++;
        return (row.length - trailing) / row.length;
      }),
  },
  Forgetting: {
    window: "all",
    describe: "forgetting events among the evaluations so far, T when never correct (Forgetting)",
    perEvaluation: correctness,
    combine: (stats) =>
      perSample(stats, (row) => {
        let events = 0;
        for (let t = 1; t < row.length; t++) if (row[t - 1] === 1 && row[t] === 0) events++;
        return row.includes(1) ? events : row.length;
      }),
  },
  AUM: {
    window: "all",
    describe: "minus the mean logit margin z_y − max_{k≠y} z_k over the evaluations so far (AUM)",
    perEvaluation: (logits, labels, c) =>
      Float64Array.from(labels, (y, i) => {
        let other = Number.NEGATIVE_INFINITY;
        for (let k = 0; k < c; k++) if (k !== y) other = Math.max(other, logits[i * c + k] as number);
        return (logits[i * c + y] as number) - other;
      }),
    combine: (stats) => perSample(stats, (row) => -mean(row)),
  },
  Cartography: {
    window: "all",
    describe:
      "minus the confidence, the mean softmax probability of the label over the evaluations so far (Cartography)",
    perEvaluation: (logits, labels, c) =>
      Float64Array.from(labels, (y, i) => softmaxRow(logits, i, c)[y] as number),
    combine: (stats) => perSample(stats, (row) => -mean(row)),
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

/** Ranks 1..n with ties sharing their average rank (scipy `rankdata(method="average")`). */
function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (x, y) => (values[x] as number) - (values[y] as number) || x - y,
  );
  const ranks = new Float64Array(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && values[order[end] as number] === values[order[start] as number]) end++;
    for (let p = start; p < end; p++) ranks[order[p] as number] = (start + end + 1) / 2;
    start = end;
  }
  return ranks;
}

/**
 * Spearman's rank correlation of two snapshots of a score (Pearson on average ranks, as
 * `scipy.stats.spearmanr`); NaN when either is constant or there are fewer than two samples.
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`spearman: lengths differ (${a.length} vs ${b.length})`);
  const n = a.length;
  if (n < 2) return Number.NaN;
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const mean = (n + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (ra[i] as number) - mean;
    const db = (rb[i] as number) - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return Number.NaN;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}
