import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { parseRunName } from "../../src/config/naming.js";
import {
  conditionOf,
  extremesPerClass,
  formatMeanStd,
  groupRunsByCondition,
  orderMetrics,
  type RunData,
} from "../../src/report/index.js";
import { readMatrix } from "../../src/results/correlation-table.js";
import { fixtureRunName } from "./fixture.js";

const root = mkdtempSync(join(tmpdir(), "curricula-results-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function fakeRun(name: string, condition?: string): RunData {
  const fields = parseRunName(name);
  return {
    name,
    dir: name,
    config: condition ? { curriculum: { type: condition } } : null,
    fields,
    condition: conditionOf(condition ? { curriculum: { type: condition } } : null, fields),
    seed: fields.seed,
    groupKey: name.replace(/_[^_]+$/, "_#"),
    finished: true,
    metrics: null,
    pace: null,
    test: null,
    testOutputs: null,
    trackingMetric: "accuracy",
    trainingType: fields.training_type,
  };
}

describe("grouping runs", () => {
  test("conditions come from the config, else from the short code in the name", () => {
    expect(conditionOf({ curriculum: { type: "AntiCurriculum" } }, null)).toBe("AntiCurriculum");
    expect(conditionOf(null, parseRunName(fixtureRunName("RandomCurriculum", 1)))).toBe("RandomCurriculum");
    expect(conditionOf(null, parseRunName(fixtureRunName("Curriculum", 1)))).toBe("Curriculum");
    expect(conditionOf(null, parseRunName(fixtureRunName("None", 1)))).toBe("Baseline");
    // A dynamic sampler's run is its own condition, never the baseline.
    expect(conditionOf({ curriculum: { type: "Dynamic" } }, null)).toBe("Dynamic");
    const dynamic = fixtureRunName("None", 1).replace("_N_N_None_None_1_0_", "_D_InfoBatch_None_None_1_0_");
    expect(conditionOf(null, parseRunName(dynamic))).toBe("Dynamic");
  });

  test("runs differing only in seed form one group; labels show only what differs", () => {
    const names = [
      ...[1, 2].map((s) => fixtureRunName("None", s)),
      ...[1, 2].map((s) => fixtureRunName("Curriculum", s)),
      ...[1, 2].map((s) => fixtureRunName("Curriculum", s).replace("_Linear_", "_Root_")),
      fixtureRunName("AntiCurriculum", 1),
    ];
    const groups = groupRunsByCondition(names.map((n) => fakeRun(n)));
    expect(groups.map((g) => [g.label, g.runs.length])).toEqual([
      ["Curriculum · Linear", 2],
      ["Curriculum · Root", 2],
      ["AntiCurriculum · Linear", 1],
      ["Baseline", 2],
    ]);
    // two groups of one condition get different shades
    expect(groups[0]?.color).not.toBe(groups[1]?.color);
  });

  test("orderMetrics puts the tracking metric first and losses last", () => {
    expect(orderMetrics(["loss", "f1", "accuracy", "uar"], "uar")).toEqual(["uar", "f1", "accuracy", "loss"]);
  });

  test("formatMeanStd uses the sample std and omits ± for one value", () => {
    expect(formatMeanStd([0.8, 1.0])).toBe("0.9000 ± 0.1414");
    expect(formatMeanStd([0.5])).toBe("0.5000");
    expect(formatMeanStd([])).toBe("–");
  });
});

describe("reading files", () => {
  test("readMatrix accepts the pandas layout and a plain square one", () => {
    const pandas = join(root, "pandas.csv");
    writeFileSync(pandas, ",a,b\na,1,0.5\nb,0.5,1\n");
    expect(readMatrix(pandas, "m")).toMatchObject({
      rowLabels: ["a", "b"],
      columnLabels: ["a", "b"],
      matrix: [
        [1, 0.5],
        [0.5, 1],
      ],
    });
    const ours = join(root, "ours.csv");
    writeFileSync(ours, "score,CELoss,Random\nCELoss,1,0.1\nRandom,0.1,1\n");
    expect(readMatrix(ours, "m")).toMatchObject({
      rowLabels: ["CELoss", "Random"],
      columnLabels: ["CELoss", "Random"],
    });
    const plain = join(root, "plain.csv");
    writeFileSync(plain, "a,b\n1,-0.25\n-0.25,1\n");
    expect(readMatrix(plain, "m")).toMatchObject({
      rowLabels: ["a", "b"],
      matrix: [
        [1, -0.25],
        [-0.25, 1],
      ],
    });
  });
});

describe("thumbnails", () => {
  test("extremesPerClass picks the k lowest and highest ranks of each class without repeats", () => {
    const ranks = [0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 1.0];
    const classes = ["b", "a", "a", "b", "a", "a", "b"];
    expect(extremesPerClass(ranks, classes, 2)).toEqual([
      { label: "a", easiest: [1, 5], hardest: [4, 2] },
      { label: "b", easiest: [3, 0], hardest: [6] },
    ]);
  });
});

describe("per-seed scores in the report", () => {
  test("folds <id>-s<seed> into the ensemble <id> of the same type and keeps the rest", async () => {
    const { splitSeedScores } = await import("../../src/report/report.js");
    const scores = [
      { id: "CELoss", type: "CELoss" },
      { id: "CELoss-s1", type: "CELoss" },
      { id: "CELoss-s2", type: "CELoss" },
      { id: "Random-s1", type: "Random" },
      { id: "FirstIteration", type: "FirstIteration" },
    ];
    const { primary, members } = splitSeedScores(scores);
    expect(primary.map((s) => s.id)).toEqual(["CELoss", "Random-s1", "FirstIteration"]);
    expect(members.get(scores[0] as (typeof scores)[0])?.map((s) => s.id)).toEqual([
      "CELoss-s1",
      "CELoss-s2",
    ]);
  });
});
