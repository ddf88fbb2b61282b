import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  aggregateConfigs,
  aggregateMetricRows,
  postprocessExperiment,
  type RunRecord,
} from "../../src/experiments/postprocess.js";
import { readCsv } from "../../src/util/csv.js";
import { meanStd } from "../../src/util/stats.js";
import { tempProject } from "../support/project.js";

const NAME = (seed: number, lr = "0.001") =>
  `Digits_FFNN_Adam_${lr}_32_epoch_2_None_None_N_N_None_None_1_0_${seed}`;

/** A finished run folder as the trainer writes it (only the files postprocess reads). */
function runFiles(name: string, seed: number, acc: [number, number]): Record<string, string> {
  const base = `results/default/training/${name}`;
  return {
    [`${base}/metrics.csv`]: `accuracy,train_loss,dev_loss,iteration\n${acc[0]},1.5,1.4,1\n${acc[1]},1.0,0.9,2\n`,
    [`${base}/config.yaml`]: `seed: ${seed}\ntraining_type: epoch\ndataset: {id: Digits, tracking_metric: accuracy, split_seed: 1}\nmodel: {id: FFNN}\n`,
    [`${base}/_best/dev.yaml`]: `accuracy: {all: ${acc[1]}}\ndev_loss: {all: 0.9}\niteration: 2\n`,
    [`${base}/_test/test_holistic.yaml`]: `accuracy: {all: ${acc[1] - 0.1}}\nloss: {all: 1.0}\n`,
    [`${base}/timer.yaml`]:
      "train: {mean: '0:00:01', mean_seconds: 1.0, total: '0:00:02', total_seconds: 2.0}\n",
  };
}

describe("aggregation math", () => {
  it("uses the sample standard deviation, 0 for one value", () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1, n: 3 });
    expect(meanStd([5])).toEqual({ mean: 5, std: 0, n: 1 });
  });

  it("averages metrics per iteration with .std columns", () => {
    const rec = (rows: Record<string, number>[]) =>
      ({ columns: ["accuracy", "iteration"], rows }) as unknown as RunRecord;
    const { columns, rows } = aggregateMetricRows([
      rec([
        { accuracy: 0.5, iteration: 1 },
        { accuracy: 0.7, iteration: 2 },
      ]),
      rec([
        { accuracy: 0.7, iteration: 1 },
        { accuracy: 0.9, iteration: 2 },
      ]),
    ]);
    expect(columns).toEqual(["accuracy", "accuracy.std", "iteration"]);
    expect(rows[1]?.accuracy).toBeCloseTo(0.8);
    expect(rows[1]?.["accuracy.std"]).toBeCloseTo(Math.SQRT2 * 0.1);
  });

  it("marks differing config values with #, nested keys included", () => {
    expect(
      aggregateConfigs([
        { seed: 1, curriculum: { pacing: { initial_size: 0.1, id: "Linear" } } },
        { seed: 2, curriculum: { pacing: { initial_size: 0.2, id: "Linear" } } },
      ]),
    ).toEqual({ seed: "#", curriculum: { pacing: { initial_size: "#", id: "Linear" } } });
  });
});

describe("postprocess", () => {
  it("writes the summary and one aggregated run over seeds with its member runs", async () => {
    const cwd = tempProject({
      ...runFiles(NAME(1), 1, [0.5, 0.7]),
      ...runFiles(NAME(2), 2, [0.6, 0.9]),
      ...runFiles(NAME(3), 3, [0.4, 0.8]),
      ...runFiles(NAME(1, "0.01"), 1, [0.3, 0.4]),
      "results/default/training/unfinished/config.yaml": "seed: 9\n",
    });
    const results = join(cwd, "results");
    const plots: string[] = [];
    const out = await postprocessExperiment(results, "default", {
      aggregate: [["seed"], ["learning_rate", "seed"]],
      log: null,
      renderPlot: async (spec, base) => {
        plots.push(base);
        expect((spec.data as { values: unknown[] }).values.length).toBeGreaterThan(0);
      },
    });
    expect(out.unfinished).toEqual(["unfinished"]);
    const summary = readCsv(join(results, "default", "summary", "metrics.csv"));
    expect(summary.columns).toEqual([
      "run_name",
      "accuracy",
      "train_loss",
      "dev_loss",
      "best_iteration",
      "test_accuracy",
      "test_loss",
    ]);
    expect(summary.rows.find((r) => r.run_name === NAME(2))?.accuracy).toBe("0.9");
    expect(readCsv(join(results, "default", "summary", "config.csv")).columns).toContain("dataset.id");
    const best = parse(readFileSync(join(results, "default", "summary", "best_runs.yaml"), "utf8"));
    expect(best.accuracy).toEqual({ run_name: NAME(2), value: 0.9 });
    expect(best.dev_loss.value).toBe(0.9);

    const agg = join(results, "default", "agg_seed", NAME(1).replace(/_1$/, "_#"));
    expect(parse(readFileSync(join(agg, "runs.yaml"), "utf8"))).toEqual([NAME(1), NAME(2), NAME(3)]);
    const dev = parse(readFileSync(join(agg, "_best", "dev.yaml"), "utf8"));
    expect(dev.accuracy.all).toBeCloseTo(0.8);
    expect(dev.accuracy["all.std"]).toBeCloseTo(0.1);
    expect(parse(readFileSync(join(agg, "config.yaml"), "utf8")).seed).toBe("#");
    expect(existsSync(join(agg, "_test", "test_holistic.yaml"))).toBe(true);
    expect(existsSync(join(agg, "timer.yaml"))).toBe(true);
    expect(readCsv(join(agg, "metrics.csv")).columns).toContain("accuracy.std");
    expect(Object.keys(out.aggregations[0]?.runs ?? {})).toHaveLength(2);
    expect(Object.keys(out.aggregations[1]?.runs ?? {})).toEqual([
      "Digits_FFNN_Adam_#_32_epoch_2_None_None_N_N_None_None_1_0_#",
    ]);
    expect(plots).toContain(join(results, "default", "summary", "plots", "training_plots", "accuracy"));
  });

  it("reports a missing results folder or experiment and invalid keys with the original's messages", async () => {
    const cwd = tempProject(runFiles(NAME(1), 1, [0.5, 0.7]));
    await expect(postprocessExperiment(join(cwd, "nope"), "default", { log: null })).rejects.toThrow(
      /Results directory '.*nope' does not exist\./,
    );
    await expect(postprocessExperiment(join(cwd, "results"), "other", { log: null })).rejects.toThrow(
      /Experiment ID 'other' does not exist in the results directory/,
    );
    await expect(
      postprocessExperiment(join(cwd, "results"), "default", { log: null, aggregate: [["training_type"]] }),
    ).rejects.toThrow(/Invalid configuration to aggregate: 'training_type'/);
  });
});
