import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scoreFile } from "../../src/config/layout.js";
import { type RunConfig, RunConfigSchema } from "../../src/config/schema.js";
import {
  type CurriculumPaceManager,
  createCurriculumCallback,
  evaluationsUpTo,
  isRescoreIteration,
  RESCORABLE_TYPES,
  RESCORERS,
  type Rescorer,
  rescore,
} from "../../src/curriculum/index.js";
import { train } from "../../src/experiments/train.js";
import { readScoreDrift, writeScoreDrift } from "../../src/results/score-drift.js";
import { saveOutputs } from "../../src/results/subset-outputs.js";
import { cartography } from "../../src/scoring/math/dynamics.js";
import { perSampleCrossEntropy } from "../../src/training/criteria.js";
import {
  areaUnderMargin,
  cumulativeAccuracy,
  firstIteration,
  forgettingEvents,
} from "../../src/training/measures/dynamics.js";
import { el2n, mistakenness, softmaxEntropy } from "../../src/training/measures/logits.js";
import type { PassSampler } from "../../src/training/types.js";
import { writeCsv } from "../../src/util/csv.js";
import { ConfigError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { expectClose } from "../support/assert.js";
import { curriculumConfig, fakeContext, fakeDataset, tempDir } from "./fakes.js";

/** Random logits of n samples × c classes for T evaluations, and labels. */
function randomOutputs(n: number, c: number, t: number, seed: number) {
  const rng = new Rng(seed);
  const labels = Int32Array.from({ length: n }, () => Math.floor(rng.random() * c));
  const sequence = Array.from({ length: t }, () => Float32Array.from({ length: n * c }, () => rng.normal()));
  return { labels, sequence };
}

function correctnessMatrix(sequence: readonly Float32Array[], labels: Int32Array, c: number): Uint8Array {
  const n = labels.length;
  const out = new Uint8Array(sequence.length * n);
  sequence.forEach((logits, t) => {
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < c; k++)
        if ((logits[i * c + k] as number) > (logits[i * c + best] as number)) best = k;
      out[t * n + i] = best === labels[i] ? 1 : 0;
    }
  });
  return out;
}

describe("re-scoring computes the scoring functions' measures over its window, turned hard-is-high", () => {
  const n = 40;
  const c = 3;
  const t = 5;
  const { labels, sequence } = randomOutputs(n, c, t, 11);
  const correct = correctnessMatrix(sequence, labels, c);
  const last = sequence[t - 1] as Float32Array;

  it("lists exactly the output-based types", () => {
    expect([...RESCORABLE_TYPES].sort()).toEqual(
      [
        "AUM",
        "CELoss",
        "Cartography",
        "CumulativeAccuracy",
        "EL2N",
        "FirstIteration",
        "Forgetting",
        "Hardness",
        "Mistakenness",
      ].sort(),
    );
  });

  it("CELoss: the cross-entropy of the newest evaluation", () => {
    expect(RESCORERS.CELoss?.window).toBe("latest");
    expectClose(
      rescore(RESCORERS.CELoss as Rescorer, sequence, labels, c) as Float64Array,
      Float64Array.from(perSampleCrossEntropy(last, labels, c)),
      "CELoss",
      0,
      0,
    );
  });

  it("EL2N: the error norm of the newest evaluation", () => {
    expectClose(
      rescore(RESCORERS.EL2N as Rescorer, sequence, labels, c) as Float64Array,
      el2n(last, labels, c),
      "EL2N",
      0,
      0,
    );
  });

  it("Hardness and Mistakenness: the softmax entropy and FiftyOne's mistakenness of the newest evaluation", () => {
    expectClose(
      rescore(RESCORERS.Hardness as Rescorer, sequence, labels, c) as Float64Array,
      softmaxEntropy(last, n, c),
      "Hardness",
      0,
      0,
    );
    expectClose(
      rescore(RESCORERS.Mistakenness as Rescorer, sequence, labels, c) as Float64Array,
      mistakenness(last, labels, c),
      "Mistakenness",
      0,
      0,
    );
  });

  it("Cartography: minus the confidence over every evaluation so far", () => {
    expectClose(
      rescore(RESCORERS.Cartography as Rescorer, sequence, labels, c) as Float64Array,
      cartography(sequence, labels, c).confidence.map((v) => -v),
      "Cartography",
      0,
      0,
    );
  });

  it("CumulativeAccuracy: 1 − the accuracy over every evaluation so far", () => {
    expect(RESCORERS.CumulativeAccuracy?.window).toBe("all");
    const { sum, count } = cumulativeAccuracy(correct, n, t);
    expectClose(
      rescore(RESCORERS.CumulativeAccuracy as Rescorer, sequence, labels, c) as Float64Array,
      Float64Array.from(sum, (s, i) => 1 - s / (count[i] as number)),
      "CumulativeAccuracy",
      0,
      0,
    );
  });

  it("FirstIteration, Forgetting and AUM over every evaluation so far", () => {
    expect(rescore(RESCORERS.FirstIteration as Rescorer, sequence, labels, c)).toEqual(
      firstIteration(correct, n, t),
    );
    expect(rescore(RESCORERS.Forgetting as Rescorer, sequence, labels, c)).toEqual(
      forgettingEvents(correct, n, t),
    );
    expectClose(
      rescore(RESCORERS.AUM as Rescorer, sequence, labels, c) as Float64Array,
      areaUnderMargin(sequence, labels, c).map((v) => -v),
      "AUM",
      0,
      0,
    );
  });
});

describe("when the curriculum is re-scored", () => {
  it("every N-th evaluation before the last, in epochs or steps", () => {
    const at = (f: number, every: number, total: number) =>
      Array.from({ length: total }, (_, i) => i + 1).filter((i) => isRescoreIteration(i, f, every, total));
    expect(at(1, 2, 6)).toEqual([2, 4]);
    expect(at(1, 1, 4)).toEqual([1, 2, 3]);
    expect(at(10, 2, 100)).toEqual([20, 40, 60, 80]);
    expect(at(3, 1, 10)).toEqual([3, 6, 9]);
    expect(evaluationsUpTo(6, 3, 10)).toEqual([3, 6]);
    expect(evaluationsUpTo(10, 3, 10)).toEqual([3, 6, 9, 10]);
  });
});

describe("score_drift.csv", () => {
  it("reads back what was written, an undefined correlation as NaN", () => {
    const dir = tempDir();
    const rows = [
      { iteration: 2, evaluation: 2, previous_iteration: 0, spearman: 0.25 },
      { iteration: 4, evaluation: 4, previous_iteration: 2, spearman: Number.NaN },
    ];
    writeScoreDrift(dir, rows);
    expect(readScoreDrift(dir)).toEqual(rows);
    expect(readScoreDrift(join(dir, "none"))).toBeNull();
  });
});

// Six training samples, two classes; the score file orders them by position.
const LABELS = [0, 1, 0, 1, 0, 1];
const RANKS = [0, 0.2, 0.4, 0.6, 0.8, 1];
/** Which samples each epoch's saved outputs classify correctly. */
const CORRECT = [
  [1, 1, 0, 0, 1, 0],
  [1, 0, 0, 1, 1, 0],
  [0, 1, 1, 1, 1, 0],
  [0, 1, 1, 1, 1, 0],
  [0, 1, 1, 1, 1, 0],
  [0, 1, 1, 1, 1, 0],
];

/** Logits that make sample i right (label logit 1, other 0) or wrong (the reverse). */
function logitsFor(correct: readonly number[]): Float32Array {
  return Float32Array.from(
    correct.flatMap((ok, i) => {
      const y = LABELS[i] as number;
      return [0, 1].map((k) => ((k === y) === (ok === 1) ? 1 : 0));
    }),
  );
}

function rescoredRun(every: number | null, scoring = { id: "CA", type: "CumulativeAccuracy" }) {
  const dir = tempDir();
  const config = curriculumConfig(dir, { iterations: 6, pacing: { initial_size: 0.34, final_iteration: 1 } });
  config.save_train_outputs = true;
  config.curriculum.scoring = scoring;
  config.curriculum.rescore_every = every;
  writeScoreFile(config);
  const runDir = join(dir, "exp", "training", "run");
  const ctx = fakeContext(config, fakeDataset(LABELS, 2), runDir);
  return { config, ctx, runDir };
}

describe("a re-scored curriculum (pace manager, hand-computed reference)", () => {
  it("reorders by CumulativeAccuracy of its own outputs at evaluations 2 and 4, from the next pass on", async () => {
    const { config, ctx, runDir } = rescoredRun(2);
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    await cb.onTrainBegin(ctx);
    const orders: number[][] = [Array.from(cb.sampler?.order ?? [])];
    const subsets: number[][] = [];
    for (let epoch = 1; epoch <= 6; epoch++) {
      ctx.setIteration(epoch);
      subsets.push(Array.from((ctx.sampler as PassSampler).nextPass()).sort((a, b) => a - b));
      saveOutputs(join(runDir, `epoch_${epoch}`), "train", {
        logits: logitsFor(CORRECT[epoch - 1] as number[]),
        numClasses: 2,
        targets: Int32Array.from(LABELS),
        indices: Int32Array.from(LABELS, (_, i) => i),
        losses: new Float32Array(LABELS.length),
      });
      await cb.onValidationEnd(ctx, epoch, { accuracy: 0.5 });
      cb.onPassExhausted(ctx, epoch);
      orders.push(Array.from(cb.sampler?.order ?? []));
    }
    // Evaluation 2: accuracy over epochs 1–2 is [1, ½, 0, ½, 1, 0], so 1 − accuracy orders
    // 0, 4 (easiest), 1, 3, then 2, 5 (ties keep position order).
    // Evaluation 4: over epochs 1–4 it is [½, ¾, ½, ¾, 1, 0]: 4, 1, 3, 0, 2, 5.
    // Evaluation 6 is the last: no re-scoring.
    const initial = [0, 1, 2, 3, 4, 5];
    const second = [0, 4, 1, 3, 2, 5];
    const fourth = [4, 1, 3, 0, 2, 5];
    expect(orders).toEqual([initial, initial, second, second, fourth, fourth, fourth]);
    // Linear from 0.34 over all 6 epochs: epoch e trains on the first g(e − 1) = ⌊2.04 + 0.66 (e − 1)⌋
    // = 2, 2, 3, 4, 4, 5 samples of the order current then.
    expect(subsets).toEqual(
      [
        [0, 1],
        [0, 1],
        [0, 1, 4],
        [0, 1, 3, 4],
        [1, 3, 4, 0],
        [0, 1, 2, 3, 4],
      ].map((s) => s.sort((a, b) => a - b)),
    );
    const state = cb.getState();
    expect(state?.drift?.map((r) => [r.iteration, r.evaluation, r.previous_iteration])).toEqual([
      [2, 2, 0],
      [4, 4, 2],
    ]);
    expect(ctx.lines.filter((l) => l.startsWith("curriculum: re-scored"))).toHaveLength(2);
  });

  it("a resumed manager recomputes the order of its last re-scoring from the saved outputs", async () => {
    const { config, ctx, runDir } = rescoredRun(2);
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    await cb.onTrainBegin(ctx);
    for (let epoch = 1; epoch <= 3; epoch++) {
      ctx.setIteration(epoch);
      (ctx.sampler as PassSampler).nextPass();
      saveOutputs(join(runDir, `epoch_${epoch}`), "train", {
        logits: logitsFor(CORRECT[epoch - 1] as number[]),
        numClasses: 2,
        targets: Int32Array.from(LABELS),
        indices: Int32Array.from(LABELS, (_, i) => i),
        losses: new Float32Array(LABELS.length),
      });
      await cb.onValidationEnd(ctx, epoch, { accuracy: 0.5 });
      cb.onPassExhausted(ctx, epoch);
    }
    const saved = JSON.parse(JSON.stringify(cb.getState()));
    const resumed = createCurriculumCallback(config) as CurriculumPaceManager;
    const ctx2 = fakeContext(config, fakeDataset(LABELS, 2), runDir);
    ctx2.setIteration(3);
    await resumed.onTrainBegin(ctx2);
    resumed.setState(saved);
    expect(Array.from(resumed.sampler?.order ?? [])).toEqual([0, 4, 1, 3, 2, 5]);
    expect(resumed.getState()).toEqual(cb.getState());
    expect(Array.from((ctx2.sampler as PassSampler).nextPass())).toEqual(
      Array.from((ctx.sampler as PassSampler).nextPass()),
    );
  });

  it("without rescore_every the state and the order are as before", async () => {
    const { config, ctx } = rescoredRun(null);
    delete config.curriculum.rescore_every;
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    await cb.onTrainBegin(ctx);
    ctx.setIteration(2);
    await cb.onValidationEnd(ctx, 2, { accuracy: 0.5 });
    expect(Object.keys(cb.getState() ?? {})).toEqual(["iteration", "size", "pace", "sampler", "pacing"]);
    expect(Array.from(cb.sampler?.order ?? [])).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe("rescore_every config errors", () => {
  it("a score that is not a function of the run's outputs is a ConfigError naming the key", () => {
    for (const scoring of [
      { id: "Predefined", type: "Predefined" },
      { id: "PD", type: "PredictionDepth" },
      { id: "TT", type: "TransferTeacher" },
      { id: "my-score" },
    ]) {
      const config = curriculumConfig(tempDir());
      config.save_train_outputs = true;
      config.curriculum.scoring = scoring;
      config.curriculum.rescore_every = 2;
      let error: unknown;
      try {
        createCurriculumCallback(config);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message)).toMatch(
        new RegExp(
          `curriculum\\.rescore_every: .*'${scoring.type ?? scoring.id}'.*expected a score of type CELoss`,
        ),
      );
    }
  });

  it("a run that saves no train outputs cannot re-score", () => {
    const config = curriculumConfig(tempDir());
    config.curriculum.rescore_every = 1;
    expect(() => createCurriculumCallback(config)).toThrow(
      /curriculum\.rescore_every: .*save_train_outputs: true/,
    );
  });

  it("train --dry-run refuses a score re-scoring cannot recompute, and accepts CELoss", async () => {
    const cwd = tempDir();
    const curriculum = ["curriculum=Curriculum", "curriculum/pacing=Linear", "curriculum/sampling=Balanced"];
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    await expect(
      train({
        cwd,
        log,
        dryRun: true,
        overrides: [...curriculum, "curriculum/scoring=Predefined", "curriculum.rescore_every=2"],
      }),
    ).rejects.toThrow(/curriculum\.rescore_every: .*'Predefined'/);
    expect(lines.filter((l) => l.startsWith("would train"))).toEqual([]);
    const ok = await train({
      cwd,
      log,
      dryRun: true,
      overrides: [...curriculum, "curriculum/scoring=CELoss", "curriculum.rescore_every=2"],
    });
    expect(ok.pending.map((p) => p.config.curriculum.rescore_every)).toEqual([2]);
  });

  it("curriculum None or Dynamic with rescore_every is a schema error naming the key", () => {
    const base = {
      experiment_id: "e",
      seed: 1,
      batch_size: 4,
      learning_rate: 0.1,
      iterations: 2,
      dataset: { id: "Blobs", type: "Blobs" },
      model: { id: "Linear", type: "Linear" },
      optimizer: { id: "SGD", type: "SGD" },
    };
    const none = RunConfigSchema.safeParse({
      ...base,
      curriculum: {
        id: "None",
        type: "None",
        short: "N",
        scoring: { id: "None" },
        pacing: { id: "None", initial_size: 1, final_iteration: 0 },
        sampling: { id: "None", short: "N" },
        rescore_every: 2,
      },
    });
    expect(none.success).toBe(false);
    expect(JSON.stringify(none.error?.issues)).toMatch(/rescore_every.*only an ordering/);
    const ok = RunConfigSchema.safeParse({
      ...base,
      curriculum: {
        id: "Curriculum",
        type: "Curriculum",
        short: "C",
        scoring: { id: "CELoss", type: "CELoss" },
        pacing: { id: "Linear", initial_size: 0.5, final_iteration: 0.5 },
        sampling: { id: "Unbalanced", short: "U" },
        rescore_every: 2,
      },
    });
    expect(ok.success).toBe(true);
  });
});

/** The score file of the config's scoring (ranks by position, source indices as the fakes'). */
function writeScoreFile(config: RunConfig): void {
  writeCsv(
    scoreFile(config.results_dir, config.experiment_id, config.curriculum.scoring),
    ["index", "source_index", "mean", "ranks"],
    RANKS.map((r, i) => ({ index: i, source_index: 100 + i, mean: r, ranks: r })),
  );
}
