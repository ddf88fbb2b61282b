import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildForRun, trainRun } from "../../src/assembly/train-run.js";
import { RunConfigSchema } from "../../src/config/schema.js";
import { readCsv, writeCsv } from "../../src/util/csv.js";
import { Rng } from "../../src/util/rng.js";
import { tempDir } from "../curriculum/fakes.js";

// One real run: Digits, the TF.js engine, the trainer and the pace manager together.
const root = tempDir("curriculum-engine-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("curriculum training with the real engine", () => {
  it("BalancedCrossEntropy trains on a subset that lacks most classes without breaking the loss", async () => {
    const config = RunConfigSchema.parse({
      results_dir: root,
      experiment_id: "eng",
      seed: 1,
      batch_size: 16,
      learning_rate: 0.01,
      iterations: 3,
      progress_bar: false,
      save_train_outputs: false,
      save_dev_outputs: false,
      save_test_outputs: false,
      dataset: {
        id: "Digits",
        type: "Digits",
        shape: "flat",
        dev_split: 0.2,
        test_split: 0.2,
        criterion: "BalancedCrossEntropy",
      },
      model: { id: "FFNN", type: "FFNN", hidden_sizes: [16], dropout: 0 },
      optimizer: { id: "Adam", type: "Adam" },
      curriculum: {
        id: "Curriculum",
        type: "Curriculum",
        short: "C",
        scoring: { id: "ByLabel", type: "Predefined" },
        pacing: { id: "OneStep", type: "OneStep", initial_size: 0.05, final_iteration: 0.6 },
        sampling: { id: "Unbalanced", short: "U" },
      },
    });
    const { dataset } = await buildForRun(config);
    const train = dataset.subset("train");
    // Difficulty = label (+ jitter): the easiest 5 % are all zeros and ones, eight classes are absent.
    const rng = new Rng(3);
    const ranks = Array.from(train.labels, (y) => (y + rng.random() * 0.5) / 10);
    writeCsv(
      join(root, "eng", "curriculum", "Predefined", "ByLabel.csv"),
      ["index", "source_index", "ranks"],
      ranks.map((r, i) => ({ index: i, source_index: train.sourceIndex[i], ranks: r })),
    );
    const runDir = join(root, "run");
    await trainRun(config, { runDir, dataset, log: null, progress: false });
    const metrics = readCsv(join(runDir, "metrics.csv")).rows;
    expect(metrics).toHaveLength(3);
    for (const row of metrics)
      expect(Number.isFinite(Number(row.train_loss)), JSON.stringify(row)).toBe(true);
    const n = train.size;
    const initial = Math.trunc(n * 0.05);
    expect(readFileSync(join(runDir, "pace.csv"), "utf8")).toBe(
      `iteration,dataset_size\n0,${initial}\n1,${initial}\n2,${n}\n3,${n}\n`,
    );
  });
});
