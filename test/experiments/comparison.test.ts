import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ComparedRun,
  checkReference,
  compareRuns,
  computeLine,
  verdictLine,
  writeComparison,
} from "../../src/experiments/comparison.js";
import { postprocessExperiment } from "../../src/experiments/postprocess.js";
import { readCsv } from "../../src/util/csv.js";
import { comparePaired, holm } from "../../src/util/paired.js";
import { FIXTURE_EXPERIMENT, writeFixture } from "../report/fixture.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../training/helpers.js";

const PREFIX = "Digits_FFNN_Adam_0.001_32_epoch_4_None_None";
const CONDITIONS = {
  baseline: { short: "N_N_None_None_1_0", curriculum: { id: "None", type: "None" } },
  curriculum: {
    short: "C_B_CELoss_Linear_0.2_0.8",
    curriculum: {
      id: "Curriculum",
      type: "Curriculum",
      scoring: { id: "CELoss" },
      pacing: { id: "Linear", initial_size: 0.2, final_iteration: 0.8 },
      sampling: { id: "Balanced" },
    },
  },
  anti: {
    short: "A_B_CELoss_Linear_0.2_0.8",
    curriculum: {
      id: "AntiCurriculum",
      type: "AntiCurriculum",
      scoring: { id: "CELoss" },
      pacing: { id: "Linear", initial_size: 0.2, final_iteration: 0.8 },
      sampling: { id: "Balanced" },
    },
  },
} as const;

/** A run: test accuracy `test`, dev accuracy per evaluation `dev` (samples_seen 100, 200, … unless given). */
function run(
  condition: keyof typeof CONDITIONS,
  seed: number,
  test: number,
  dev: number[],
  samples?: number[],
): ComparedRun {
  const c = CONDITIONS[condition];
  return {
    name: `${PREFIX}_${c.short}_${seed}`,
    config: { curriculum: c.curriculum, dataset: { tracking_metric: "accuracy" } },
    test: { accuracy: { all: test }, loss: { all: 1 - test } },
    rows: dev.map((accuracy, i) => ({
      accuracy,
      iteration: i + 1,
      samples_seen: samples ? samples[i] : 100 * (i + 1),
    })),
  };
}

const BASE = [0.925, 0.921, 0.929];
const CUR = [0.9, 0.897, 0.906];
const ANTI = [0.93, 0.918, 0.931];
const runs: ComparedRun[] = [
  ...BASE.map((t, i) => run("baseline", i + 1, t, [0.5, 0.8, 0.9, 0.88])),
  // reaches the baseline's best (0.9) at its third evaluation, having seen 60 + 120 + 180 samples
  ...CUR.map((t, i) => run("curriculum", i + 1, t, [0.6, 0.85, 0.91, 0.92], [60, 120, 180, 240])),
  run("curriculum", 4, 0.99, [0.9, 0.9, 0.9, 0.9]),
  // never reaches 0.9
  ...ANTI.map((t, i) => run("anti", i + 1, t, [0.4, 0.6, 0.7, 0.8])),
];

describe("paired comparisons of an experiment's runs", () => {
  const { comparisons, compute } = compareRuns(runs, { metrics: ["accuracy"] });

  it("pairs each condition with the baseline by seed, leaving out seeds the baseline lacks", () => {
    expect(comparisons.map((c) => [c.conditionName, c.referenceName, c.metric, c.n])).toEqual([
      ["Curriculum (CELoss, Linear 0.2→0.8, Balanced)", "Baseline", "test_accuracy", 3],
      ["AntiCurriculum (CELoss, Linear 0.2→0.8, Balanced)", "Baseline", "test_accuracy", 3],
    ]);
    const cur = comparisons[0];
    expect(cur?.seeds).toEqual(["1", "2", "3"]);
    const expected = comparePaired(BASE, CUR);
    expect(cur).toMatchObject({
      meanDifference: expected.meanDifference,
      low: expected.low,
      high: expected.high,
      p: 0.25,
      minP: 0.25,
      dz: expected.dz,
    });
    // Holm over the table's two accuracy comparisons
    const adjusted = holm([cur?.p as number, comparisons[1]?.p as number]);
    expect(comparisons.map((c) => c.pHolm)).toEqual(adjusted);
  });

  it("says the verdict in plain words", () => {
    const line = verdictLine(comparisons[0] as (typeof comparisons)[number]);
    expect(line).toMatch(
      /^Curriculum \(CELoss, Linear 0\.2→0\.8, Balanced\) vs Baseline: −2\.4 points of test accuracy \[−\d\.\d, −\d\.\d\], p = 0\.25 \(Holm 0\.5\) — 3 seeds cannot reach p < 0\.25; about \d+ seeds would detect an effect of this size$/,
    );
  });

  it("gives the samples to reach the baseline's best as a ratio, and says when a condition never reaches it", () => {
    const cur = compute.find((c) => c.condition.startsWith("C_"));
    // baseline reaches 0.9 at 300 samples, the curriculum at 180: 0.6× on every seed
    expect(cur).toMatchObject({ n: 3, reached: 3, metric: "dev_accuracy" });
    expect(cur?.ratio).toBeCloseTo(0.6, 12);
    expect(cur?.low).toBeCloseTo(0.6, 12);
    expect(computeLine(cur as (typeof compute)[number])).toMatch(
      /reaches Baseline's best dev accuracy with 0\.60× the samples \[0\.60, 0\.60\] \(3 of 3 seeds\)/,
    );
    const anti = compute.find((c) => c.condition.startsWith("A_"));
    expect(anti?.reached).toBe(0);
    expect(computeLine(anti as (typeof compute)[number])).toMatch(
      /never reaches Baseline's best dev accuracy \(0 of 3 seeds\)/,
    );
  });

  it("compares by another key with a chosen reference, and refuses a key that is no naming key", () => {
    const byCurriculum = compareRuns(runs, { by: ["curriculum"], reference: "A", metrics: ["accuracy"] });
    // the baseline differs in its sampling, scoring and pacing fields too: another context, so only
    // AntiCurriculum and Curriculum (same scoring, pacing, sampling) are paired
    expect(byCurriculum.comparisons.map((c) => [c.reference, c.condition])).toEqual([["A", "C"]]);
    expect(() => compareRuns(runs, { by: ["seed"] })).toThrow(/--by seed/);
  });

  it("refuses a chosen reference that names no condition, listing the conditions there are", () => {
    expect(() =>
      checkReference(runs, { reference: "Curriculum (CELoss, Linear 0.2→0.8, Balanced)" }),
    ).not.toThrow();
    expect(() => checkReference(runs, { reference: "C_B_CELoss_Linear_0.2_0.8" })).not.toThrow();
    expect(() => checkReference(runs, {})).not.toThrow();
    expect(() => checkReference(runs, { reference: "Curiculum" })).toThrow(
      /^--reference Curiculum: no condition of the experiment has this label or name; expected one of: N_N_None_None_1_0 \(Baseline\); C_B_CELoss_Linear_0\.2_0\.8 \(Curriculum \(CELoss, Linear 0\.2→0\.8, Balanced\)\); A_B_CELoss/,
    );
  });

  it("one seed: no interval, said plainly", () => {
    const one = compareRuns([runs[0] as ComparedRun, runs[3] as ComparedRun], { metrics: ["accuracy"] });
    expect(one.comparisons[0]?.low).toBeNaN();
    expect(verdictLine(one.comparisons[0] as (typeof one.comparisons)[number])).toMatch(
      /vs Baseline: −2\.5 points of test accuracy \(one seed only: no interval/,
    );
  });

  const root = tempDir("comparison");
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  it("writes summary/comparison.csv and summary/compute.csv", () => {
    writeComparison(runs, root);
    const table = readCsv(join(root, "comparison.csv"));
    expect(table.columns.slice(0, 6)).toEqual([
      "context",
      "reference",
      "condition",
      "reference_name",
      "condition_name",
      "metric",
    ]);
    // accuracy and loss for two conditions
    expect(table.rows.length).toBe(4);
    expect(table.rows[0]?.context).toBe(`${PREFIX}_#_#_#_#_#_#_#`);
    expect(Number(table.rows[0]?.p_value)).toBe(0.25);
    const computed = readCsv(join(root, "compute.csv"));
    expect(computed.rows.map((r) => r.reached)).toEqual(["3", "0"]);
  });

  it("postprocess writes the numbers 'curricula compare' prints", async () => {
    const results = join(root, "results");
    writeFixture(results);
    await postprocessExperiment(results, FIXTURE_EXPERIMENT, { renderPlot: null, log: null });
    const table = readCsv(join(results, FIXTURE_EXPERIMENT, "summary", "comparison.csv"));
    const accuracy = table.rows.filter((r) => r.metric === "test_accuracy");
    expect(accuracy.map((r) => r.condition_name).sort()).toEqual([
      "AntiCurriculum (CELoss-1, Linear 0.2→0.8, Balanced)",
      "Curriculum (CELoss-1, Linear 0.2→0.8, Balanced)",
      "RandomCurriculum (CELoss-1, Linear 0.2→0.8, Balanced)",
    ]);
    const cli = runCli(["compare", results, FIXTURE_EXPERIMENT, "--metric", "accuracy"], root);
    expect(cli.stderr).toBe("");
    expect(cli.code).toBe(0);
    for (const row of accuracy) {
      const difference = (Number(row.mean_difference) * 100).toFixed(1).replace("-", "−");
      expect(cli.stdout).toContain(
        `${row.condition_name} vs Baseline: ${Number(difference) > 0 ? "+" : ""}${difference} points`,
      );
    }
    expect(cli.stdout).toMatch(/3 seeds cannot reach p < 0\.25/);
    expect(cli.stdout).toMatch(
      /reaches Baseline's best dev accuracy|never reaches Baseline's best dev accuracy/,
    );
  });

  it("postprocess --reference compares every condition with the chosen one; an unknown one is a usage error (exit 2) that writes nothing", () => {
    const results = join(root, "results-reference");
    writeFixture(results);
    const summary = join(results, FIXTURE_EXPERIMENT, "summary");
    const curriculum = "Curriculum (CELoss-1, Linear 0.2→0.8, Balanced)";
    const bad = runCli(["postprocess", results, FIXTURE_EXPERIMENT, "--reference", "Curiculum"], root);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--reference Curiculum: no condition of the experiment has this label or name/,
    );
    expect(bad.stderr).toContain(curriculum);
    expect(existsSync(summary)).toBe(false);

    const cli = runCli(["postprocess", results, FIXTURE_EXPERIMENT, "--reference", curriculum], root);
    expect(cli.stderr).not.toMatch(/rror/);
    expect(cli.code).toBe(0);
    const rows = readCsv(join(summary, "comparison.csv")).rows.filter((r) => r.metric === "test_accuracy");
    expect(rows.map((r) => r.reference_name)).toEqual([curriculum, curriculum, curriculum]);
    expect(rows.map((r) => r.condition_name).sort()).toEqual([
      "AntiCurriculum (CELoss-1, Linear 0.2→0.8, Balanced)",
      "Baseline",
      "RandomCurriculum (CELoss-1, Linear 0.2→0.8, Balanced)",
    ]);
    const compute = readCsv(join(summary, "compute.csv")).rows;
    expect(compute.length).toBe(3);
    expect(new Set(compute.map((r) => r.reference_name))).toEqual(new Set([curriculum]));
  });
});
