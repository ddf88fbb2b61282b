import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { Dataset } from "../../src/data/types.js";
import { barChart, distinctColors, distinctShades, ridgePlot } from "../../src/plots/charts.js";
import { renderSvg } from "../../src/plots/render.js";
import { groupRunsByCondition, type RunData } from "../../src/report/collect.js";
import { writeReport } from "../../src/report/index.js";
import { writeCorrelationMatrix } from "../../src/scoring/correlation-matrix.js";
import { plotCorrelation } from "../../src/scoring/plots.js";
import { confusionMatrix, perClassMetrics } from "../../src/training/metrics.js";
import { FIXTURE_EXPERIMENT, fakeImageDataset, fixtureRunName, writeFixture } from "./fixture.js";

/**
 * What a report must get right: per-class test results for each condition, epoch and step runs on
 * separate axes, bar labels that are not cut off, colours that do not repeat in a chart, and
 * correlation titles that say what is correlated.
 */
const root = mkdtempSync(join(tmpdir(), "curricula-report-trust-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const NOW = new Date("2025-01-02T03:04:05Z");
const loader = async (): Promise<Dataset> => fakeImageDataset();

describe("per-class test results", () => {
  it("confusion counts and per-class precision, recall, F1, support", () => {
    const predictions = Int32Array.from([0, 0, 1, 1, 2, 0]);
    const labels = Int32Array.from([0, 1, 1, 1, 2, 2]);
    const m = confusionMatrix(predictions, labels, 3);
    expect(Array.from(m)).toEqual([1, 0, 0, 1, 2, 0, 1, 0, 1]);
    const per = perClassMetrics(m, 3);
    expect(per[0]).toEqual({ precision: 1 / 3, recall: 1, f1: 0.5, support: 1 });
    expect(per[1]?.precision).toBe(1);
    expect(per[1]?.recall).toBeCloseTo(2 / 3, 12);
    expect(per[2]).toEqual({ precision: 1, recall: 0.5, f1: 2 / 3, support: 2 });
  });

  it("the report shows a confusion matrix and a per-class table for each condition", async () => {
    const resultsDir = join(root, "classes");
    writeFixture(resultsDir);
    const html = readFileSync(
      await writeReport(resultsDir, FIXTURE_EXPERIMENT, { datasetLoader: loader, now: NOW }),
      "utf8",
    );
    expect(html).toContain('<section id="classes">');
    for (const condition of ["Curriculum", "AntiCurriculum", "RandomCurriculum", "Baseline"]) {
      expect(html).toMatch(new RegExp(`${condition}[^<]*: confusion matrix`));
    }
    // Fixture: class c has its first c of 5 test samples predicted as c - 1, in each of 3 seeds.
    // dog (class 1): 4 of 5 right; predicted dog: its 4 + 2 fish → precision 4/6.
    expect(html).toContain(
      '<tr><td>dog</td><td class="num">0.6667</td><td class="num">0.8000</td><td class="num">0.7273</td><td class="num">15</td></tr>',
    );
    expect(html).toContain(
      '<tr><td>cat</td><td class="num">0.8333</td><td class="num">1.0000</td><td class="num">0.9091</td><td class="num">15</td></tr>',
    );
    expect(html).toContain("predicted class");
  });
});

describe("epoch and step runs", () => {
  it("never share an x axis: one chart per training type, the axis named after it", async () => {
    const resultsDir = join(root, "mixed");
    const exp = writeFixture(resultsDir);
    const training = join(exp, "training");
    for (const seed of [1, 2]) {
      const from = join(training, fixtureRunName("None", seed));
      const name = fixtureRunName("None", seed).replace("_epoch_6_", "_step_6_");
      cpSync(from, join(training, name), { recursive: true });
      const configPath = join(training, name, "config.yaml");
      const config = parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
      writeFileSync(configPath, stringify({ ...config, training_type: "step" }));
    }
    const html = readFileSync(
      await writeReport(resultsDir, FIXTURE_EXPERIMENT, { datasetLoader: loader, now: NOW }),
      "utf8",
    );
    expect(html).toContain("Dev accuracy (epoch runs)");
    expect(html).toContain("Dev accuracy (step runs)");
    expect(html).toContain("dev loss (step runs)");
    expect(html).toContain("per evaluation (x: steps)");
    const curves = html.slice(html.indexOf('<section id="training">'), html.indexOf('<section id="pacing">'));
    expect(curves).not.toContain(">Dev accuracy<");
    // The pacing section compares the (epoch) curriculum runs with epoch baselines only.
    const pacing = html.slice(html.indexOf('<section id="pacing">'), html.indexOf('<section id="scores">'));
    expect(pacing).not.toContain("_step_6_");
  });
});

describe("readable charts", () => {
  it("bar labels are not cut off: long labels break at ' · ' and are never truncated", async () => {
    const long = "Curriculum · CELoss · Linear · Balanced · initial 0.2 · final 0.8 · lr 0.001";
    const svg = await renderSvg(
      barChart({
        data: [
          { x: long, value: 0.8 },
          { x: "Baseline", value: 0.7 },
        ],
        title: "Test accuracy",
      }),
    );
    expect(svg).not.toContain("…");
    for (const part of long.split(" · ")) expect(svg).toContain(`>${part}<`);
  });

  it("colours do not repeat within a chart", () => {
    for (const n of [4, 10, 11, 26, 40]) expect(new Set(distinctColors(n)).size).toBe(n);
    expect(distinctColors(10)).toEqual(distinctColors(26).slice(0, 10));
    const shades = distinctShades(["#0173b2", "#56b4e9", "#cc78bc", "#1f3f7a"], 9);
    expect(new Set(shades).size).toBe(9);
    expect(shades.slice(0, 4)).toEqual(["#0173b2", "#56b4e9", "#cc78bc", "#1f3f7a"]);
    // 26 classes in a ridge plot: 26 colours.
    const groups = Array.from({ length: 26 * 3 }, (_, i) => `c${Math.floor(i / 3)}`);
    const spec = ridgePlot({ values: groups.map((_, i) => (i % 3) / 3), groups, title: "r" }) as unknown as {
      spec: { layer: { encoding: { color: { scale: { range: string[] } } } }[] };
    };
    expect(new Set(spec.spec.layer[0]?.encoding.color.scale.range).size).toBe(26);
  });

  it("six curriculum groups get six different colours", () => {
    const runs: RunData[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map((initial) => {
      const name = `D_M_O_0.1_8_epoch_3_None_None_C_B_S_Linear_${initial}_0.8_1`;
      return {
        name,
        dir: name,
        config: null,
        fields: null,
        condition: "Curriculum",
        seed: "1",
        groupKey: name,
        finished: true,
        metrics: null,
        pace: null,
        test: null,
        testOutputs: null,
        trackingMetric: "accuracy",
        trainingType: "epoch",
      };
    });
    const colours = groupRunsByCondition(runs).map((g) => g.color);
    expect(colours).toHaveLength(6);
    expect(new Set(colours).size).toBe(6);
  });
});

describe("correlation titles say what is correlated", () => {
  it("the heatmap and its card name the method and the per-sample scores, not ranks", async () => {
    const dir = join(root, "corr");
    await plotCorrelation(join(dir, "m"), ["a", "b"], Float64Array.from([1, 0.5, 0.5, 1]), "spearman");
    const svg = readFileSync(join(dir, "m.svg"), "utf8");
    expect(svg).toContain("Spearman correlation of per-sample scores");
    expect(svg).not.toContain("of score ranks");
  });

  it("writeCorrelationMatrix writes a card with the method, and the report titles the heatmap from it", async () => {
    const resultsDir = join(root, "corr-report");
    const exp = writeFixture(resultsDir);
    await writeCorrelationMatrix(join(exp, "curriculum"), "correlation_matrix", "all", "kendall", {
      plot: false,
    });
    const card = parse(readFileSync(join(exp, "curriculum", "correlation_matrix.yaml"), "utf8"));
    expect(card).toMatchObject({ method: "kendall", scores: ["CELoss-1", "Random-1"] });
    expect(card.values).toMatch(/per-sample mean of each score, oriented so that higher means harder/);
    const html = readFileSync(
      await writeReport(resultsDir, FIXTURE_EXPERIMENT, { datasetLoader: loader, now: NOW }),
      "utf8",
    );
    expect(html).toContain("Kendall correlation of per-sample scores");
    expect(html).toContain("not the position-broken ranks");
  });
});
