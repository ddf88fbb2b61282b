import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainRunWith } from "../../src/assembly/train-run.js";
import type { RunConfig } from "../../src/config/schema.js";
import { createPacing } from "../../src/curriculum/index.js";
import type { TrainCallback } from "../../src/training/types.js";
import { readCsv, writeCsv } from "../../src/util/csv.js";
import { Rng } from "../../src/util/rng.js";
import { fakeDeps, samplesDrawn } from "../training/fakes.js";
import { blobConfig, crashAt, differingFiles, straightAndResumed, tempDir } from "../training/helpers.js";

// The real trainer loop (trainRunWith) with the training tests' pure-JS engine and Blobs data
// (90 training samples, 3 classes, source indices 0..89).
const root = tempDir("curriculum-training");
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `run${counter++}`);
const quiet = { log: null, progress: false } as const;

function curriculumRun(
  overrides: Record<string, unknown>,
  curriculum: Partial<RunConfig["curriculum"]> = {},
): RunConfig {
  const config = blobConfig({
    results_dir: root,
    experiment_id: "cur",
    curriculum: {
      id: "Curriculum",
      type: "Curriculum",
      short: "C",
      scoring: { id: "Rand", type: "Random" },
      pacing: { id: "Linear", type: "Linear", initial_size: 0.2, final_iteration: 0.8 },
      sampling: { id: "Balanced", short: "B" },
      ...curriculum,
    },
    ...overrides,
  });
  return config;
}

// A score file for the Blobs training subset: seeded random ranks.
const ranks = Array.from(new Rng(5).permutation(90), (r) => r / 89);
writeCsv(
  join(root, "cur", "curriculum", "Random", "Rand.csv"),
  ["index", "source_index", "mean", "ranks"],
  ranks.map((r, i) => ({ index: i, source_index: i, mean: r, ranks: r })),
);

/** Records the number of batches of each epoch (onStep batch indices). */
function batchCounter(): TrainCallback & { perIteration: Map<number, number> } {
  const perIteration = new Map<number, number>();
  return {
    name: "batches",
    perIteration,
    onStep: (_ctx, iteration, batchIndex) => {
      perIteration.set(iteration, Math.max(perIteration.get(iteration) ?? 0, batchIndex + 1));
    },
  };
}

describe("curriculum training with the trainer", () => {
  it("epoch training: each epoch trains on pacing(e − 1) samples and pace.csv records the schedule", async () => {
    const config = curriculumRun({ iterations: 5, batch_size: 4 });
    const dir = freshDir();
    const batches = batchCounter();
    await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet, callbacks: [batches] });
    const pacing = createPacing(config.curriculum.pacing, 5, 90);
    // Balanced: ⌊size/3⌋ per class (30 per class available)
    const used = (e: number) => 3 * Math.floor(pacing.getDatasetSize(e - 1) / 3);
    expect([...batches.perIteration.values()]).toEqual([1, 2, 3, 4, 5].map((e) => Math.ceil(used(e) / 4)));
    expect(readFileSync(join(dir, "pace.csv"), "utf8")).toBe(
      `iteration,dataset_size\n${[0, 1, 2, 3, 4, 5].map((i) => `${i},${pacing.getDatasetSize(i)}`).join("\n")}\n`,
    );
  });

  it("step training: the size changes only when a pass is exhausted", async () => {
    const config = curriculumRun(
      { training_type: "step", iterations: 40, eval_frequency: 10, save_frequency: 10, batch_size: 8 },
      { sampling: { id: "Unbalanced", short: "U" } },
    );
    const dir = freshDir();
    await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet });
    // Simulate the schedule: a pass of `size` samples lasts ceil(size / 8) steps; at the first step
    // after it the pace manager asks the pacing for that step's size.
    const pacing = createPacing(config.curriculum.pacing, 40, 90);
    const expected: Array<[number, number]> = [[0, pacing.getDatasetSize(0)]];
    let size = pacing.getDatasetSize(0);
    for (let next = 1 + Math.ceil(size / 8); next <= 40; next += Math.ceil(size / 8)) {
      size = pacing.getDatasetSize(next);
      expected.push([next, size]);
    }
    if (expected[expected.length - 1]?.[0] !== 40) expected.push([40, size]);
    const rows = readFileSync(join(dir, "pace.csv"), "utf8").trim().split("\n").slice(1);
    expect(rows).toEqual(expected.map(([i, s]) => `${i},${s}`));
    // boundaries are not every step: the sizes are held for whole passes
    expect(rows.length).toBeLessThan(20);
  });

  for (const [label, overrides] of [
    ["epoch training", { iterations: 5, batch_size: 4 }],
    ["step training", { training_type: "step", iterations: 40, eval_frequency: 10, batch_size: 8 }],
  ] as const) {
    it(`samples_seen is the sum of the batch sizes drawn from the paced pool (${label})`, async () => {
      const config = curriculumRun(overrides as Record<string, unknown>);
      const dir = freshDir();
      const drawn = samplesDrawn();
      await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet, callbacks: [drawn] });
      const recorded = new Map(
        readCsv(join(dir, "metrics.csv")).rows.map((r) => [Number(r.iteration), Number(r.samples_seen)]),
      );
      expect(recorded).toEqual(drawn.atEvaluation);
      expect([...recorded.keys()]).toEqual(label === "epoch training" ? [1, 2, 3, 4, 5] : [10, 20, 30, 40]);
      if (label === "epoch training") {
        // each epoch passes once over its paced subset (Balanced: ⌊size/3⌋ per class)
        const pacing = createPacing(config.curriculum.pacing, 5, 90);
        const used = (e: number) => 3 * Math.floor(pacing.getDatasetSize(e - 1) / 3);
        expect(recorded.get(5)).toBe([1, 2, 3, 4, 5].reduce((sum, e) => sum + used(e), 0));
        expect(recorded.get(5)).toBeLessThan(5 * 90);
      }
    });
  }

  for (const [label, overrides, crash] of [
    ["epoch training", { iterations: 6, batch_size: 8 }, crashAt(4, "onIterationEnd")],
    [
      "step training, crash mid-pass",
      { training_type: "step", iterations: 30, eval_frequency: 4, save_frequency: 2, batch_size: 8 },
      crashAt(19, "onStep"),
    ],
    [
      "balanced cross-entropy",
      {
        iterations: 6,
        batch_size: 8,
        dataset: { id: "Blobs", type: "Blobs", criterion: "BalancedCrossEntropy" },
      },
      crashAt(3, "onIterationEnd"),
    ],
  ] as const) {
    it(`an interrupted and resumed curriculum run equals one that ran straight through (${label})`, async () => {
      const config = curriculumRun(overrides as Record<string, unknown>, {
        sampling: { id: "Unbalanced", short: "U" },
      });
      const { straight, crashed } = await straightAndResumed(config, crash, freshDir);
      expect(readFileSync(join(crashed, "training.log"), "utf8")).toContain("Resuming");
      expect(differingFiles(straight, crashed)).toEqual([]);
    });
  }

  it("AntiCurriculum and RandomCurriculum train differently from Curriculum on the same scores", async () => {
    const outputs: string[] = [];
    for (const type of ["Curriculum", "AntiCurriculum", "RandomCurriculum"] as const) {
      const dir = freshDir();
      await trainRunWith(
        fakeDeps(),
        curriculumRun({ iterations: 2 }, { id: type, type, short: type[0] as string }),
        {
          runDir: dir,
          ...quiet,
        },
      );
      outputs.push(
        readFileSync(join(dir, "metrics.csv"), "utf8") +
          readFileSync(join(dir, "epoch_1", "train_losses.npy")).toString("hex"),
      );
    }
    expect(new Set(outputs).size).toBe(3);
  });

  it("a missing score file fails the run with the file and the command to create it", async () => {
    const config = curriculumRun({ iterations: 2 }, { scoring: { id: "CELoss-X", type: "CELoss" } });
    await expect(trainRunWith(fakeDeps(), config, { runDir: freshDir(), ...quiet })).rejects.toThrow(
      /score file not found: .*curriculum\/CELoss\/CELoss-X\.csv.*curricula curriculum curriculum\/scoring=CELoss-X/,
    );
  });
});
