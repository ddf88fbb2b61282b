import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Dataset } from "../../src/data/types.js";
import { formatMeanStd, writeReport } from "../../src/report/index.js";
import { CurriculaError } from "../../src/util/errors.js";
import { readYaml, writeYaml } from "../../src/util/yaml-io.js";
import { FIXTURE_EXPERIMENT, fakeImageDataset, fixtureRunName, writeFixture } from "./fixture.js";

const root = mkdtempSync(join(tmpdir(), "curricula-report-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const NOW = new Date("2025-01-02T03:04:05Z");
const loader = async (): Promise<Dataset> => fakeImageDataset();

function freshFixture(name: string): string {
  const resultsDir = join(root, name);
  writeFixture(resultsDir);
  return resultsDir;
}

describe("writeReport on a synthetic results folder", async () => {
  const resultsDir = freshFixture("full");
  const path = await writeReport(resultsDir, FIXTURE_EXPERIMENT, { datasetLoader: loader, now: NOW });
  const html = readFileSync(path, "utf8");

  test("writes <results_dir>/<experiment_id>/report.html", () => {
    expect(path).toBe(join(resultsDir, FIXTURE_EXPERIMENT, "report.html"));
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain("generated 2025-01-02 03:04:05 UTC");
  });

  test("has every section", () => {
    for (const id of ["comparison", "training", "pacing", "scores", "runs"]) {
      expect(html, `section #${id}`).toContain(`<section id="${id}">`);
    }
    expect(html).not.toContain('<section id="problems">');
  });

  test("opens with the verdict: paired differences against the baseline, compute to accuracy, dev accuracy against samples seen", () => {
    const first = html.indexOf("<section id=");
    expect(html.slice(first, first + 30)).toContain('<section id="verdict">');
    const verdict = html.slice(first, html.indexOf("</section>", first));
    expect(verdict).toMatch(
      /Curriculum \(CELoss-1, Linear 0\.2→0\.8, Balanced\) vs Baseline: [+−]\d+\.\d points of test accuracy \[[^\]]+\], p = [\d.]+( \(Holm [\d.]+\))? — 3 seeds cannot reach p &lt; 0\.25/,
    );
    expect(verdict).toContain("AntiCurriculum (CELoss-1, Linear 0.2→0.8, Balanced) vs Baseline");
    expect(verdict).toContain("samples vs baseline");
    expect(verdict).toContain("Dev accuracy against samples seen");
  });

  test("is self-contained: no scripts, no external resources", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).not.toMatch(/<link[^>]+stylesheet/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?http/i);
  });

  test("the test table shows mean ± std over seeds for all four conditions", () => {
    for (const [type, condition] of [
      ["Curriculum", "Curriculum"],
      ["AntiCurriculum", "AntiCurriculum"],
      ["RandomCurriculum", "RandomCurriculum"],
      ["None", "Baseline"],
    ] as const) {
      const accuracies = [1, 2, 3].map(
        (seed) =>
          readYaml<{ accuracy: { all: number } }>(
            join(
              resultsDir,
              FIXTURE_EXPERIMENT,
              "training",
              fixtureRunName(type, seed),
              "_test",
              "test_holistic.yaml",
            ),
          ).accuracy.all,
      );
      expect(html, `${condition} accuracy`).toContain(formatMeanStd(accuracies));
      expect(html).toContain(`<span class="cond ${condition}">`);
    }
    expect(html).toContain("test loss");
  });

  test("draws training curves, pace next to the dev metric, heatmap and per-class score plots", () => {
    expect(html).toContain("Dev accuracy");
    expect(html).toContain("dev loss");
    expect(html).toContain("train loss");
    expect(html).toContain("Pace: training subset size");
    expect(html).toContain("83.12%");
    for (const id of ["CELoss-1", "Random-1"]) {
      expect(html).toContain(`${id}: histogram`);
      expect(html).toContain(`${id}: ridge per class`);
      expect(html).toContain(`${id}: percent per class`);
    }
    expect(html).toContain("cat (10 samples)");
    const figures = html.match(/<figure class="chart"/g) ?? [];
    // 1 dev against samples seen + 1 bar + 4 confusion matrices + 3 training + 2 pacing + 1 heatmap + 3 per score × 2
    expect(figures.length).toBe(18);
  });

  test("shows the easiest and hardest samples of each class as inline PNG thumbnails", () => {
    const thumbs = html.match(/<img alt="sample \d+" src="data:image\/png;base64,[A-Za-z0-9+/=]+">/g) ?? [];
    expect(thumbs.length).toBe(2 * 4 * 8); // 2 scores × 4 classes × (4 easiest + 4 hardest)
  });

  test("names the unfinished run", () => {
    expect(html).toContain(`${fixtureRunName("Curriculum", 4)}`);
    expect(html).toContain("1 run(s) not finished");
  });
});

describe("writeReport degrades gracefully", () => {
  test("an experiment with no runs and no scores still gets a page saying so", async () => {
    const resultsDir = join(root, "empty");
    mkdirSync(join(resultsDir, "exp"), { recursive: true });
    const html = readFileSync(await writeReport(resultsDir, "exp", { now: NOW }), "utf8");
    expect(html).toContain("No scores computed");
    expect(html).toContain("No finished training runs");
    expect(html).toContain("No test results yet");
    expect(html).toContain("No curriculum runs");
    expect(html).not.toContain("<figure");
  });

  test("a missing experiment folder is an error naming it", async () => {
    await expect(writeReport(join(root, "nowhere"), "exp")).rejects.toThrow(CurriculaError);
    await expect(writeReport(join(root, "nowhere"), "exp")).rejects.toThrow(
      /nowhere.*experiment folder not found/,
    );
  });

  test("a malformed score file is listed under Problems and the rest still renders", async () => {
    const resultsDir = freshFixture("bad-score");
    writeFileSync(
      join(resultsDir, FIXTURE_EXPERIMENT, "curriculum", "CELoss", "CELoss-1.csv"),
      "index,mean\n0,1\n",
    );
    const html = readFileSync(
      await writeReport(resultsDir, FIXTURE_EXPERIMENT, { datasetLoader: loader }),
      "utf8",
    );
    expect(html).toContain('<section id="problems">');
    expect(html).toMatch(
      /CELoss-1\.csv: missing column &#39;source_index&#39;|CELoss-1\.csv: missing column/,
    );
    expect(html).toContain("Random-1: histogram");
    expect(html).not.toContain("CELoss-1: histogram");
  });

  test("thumbnails are skipped with a reason when the dataset does not match the score file", async () => {
    const resultsDir = freshFixture("misaligned");
    const shifted = async (): Promise<Dataset> => {
      const base = fakeImageDataset();
      return {
        ...base,
        subset: (name) => {
          const s = base.subset(name);
          return { ...s, sourceIndex: s.sourceIndex.map((v) => v + 1), batch: s.batch };
        },
      };
    };
    const html = readFileSync(
      await writeReport(resultsDir, FIXTURE_EXPERIMENT, { datasetLoader: shifted }),
      "utf8",
    );
    expect(html).toContain("Thumbnails skipped");
    expect(html).toContain("source_index 100 but the dataset has 101 at index 0");
    expect(html).not.toContain("data:image/png");
  });

  test("a dataset that cannot be rebuilt leaves a note instead of thumbnails", async () => {
    const resultsDir = freshFixture("no-data");
    const failing = async (): Promise<Dataset> => {
      throw new Error("Fake: no such dataset type");
    };
    const html = readFileSync(
      await writeReport(resultsDir, FIXTURE_EXPERIMENT, { datasetLoader: failing }),
      "utf8",
    );
    expect(html).toContain("Could not rebuild dataset Fake for thumbnails: Fake: no such dataset type");
    expect(html).toContain("CELoss-1: histogram");
  });

  test("thumbnails: 0 turns them off", async () => {
    const resultsDir = freshFixture("no-thumbs");
    const html = readFileSync(
      await writeReport(resultsDir, FIXTURE_EXPERIMENT, { datasetLoader: loader, thumbnails: 0 }),
      "utf8",
    );
    expect(html).not.toContain("data:image/png");
  });
});

describe("the label-noise section", () => {
  test("without noisy runs it says how to measure; with them it tabulates each card's detection figures", async () => {
    const plain = readFileSync(
      await writeReport(freshFixture("no-noise"), FIXTURE_EXPERIMENT, {
        datasetLoader: loader,
        thumbnails: 0,
      }),
      "utf8",
    );
    expect(plain).toContain('<section id="label-noise">');
    expect(plain).toContain("No score was computed on runs trained with dataset.label_noise");

    const resultsDir = freshFixture("noise");
    const cardPath = join(resultsDir, FIXTURE_EXPERIMENT, "curriculum", "CELoss", "CELoss-1.yaml");
    const card = readYaml<Record<string, unknown>>(cardPath) ?? {};
    writeYaml(cardPath, {
      ...card,
      label_noise: {
        config: { rate: 0.2, kind: "symmetric", seed: 1 },
        flipped: 7,
        samples: 40,
        average_precision: 0.8123,
        auroc: 0.9371,
        recall_hardest_1pct: 0,
        recall_hardest_5pct: 0.25,
        recall_hardest_10pct: 0.5,
        label_issue: { flagged: 6, precision: 0.5, recall: 0.4286 },
        filter_by: { "<both>": { flagged: 5, precision: 0.8, recall: 0.5714 } },
      },
    });
    const html = readFileSync(
      await writeReport(resultsDir, FIXTURE_EXPERIMENT, { datasetLoader: loader, thumbnails: 0 }),
      "utf8",
    );
    const section = html.slice(html.indexOf('<section id="label-noise">'));
    const body = section.slice(0, section.indexOf("</section>"));
    expect(body).toContain("7 of 40");
    for (const value of ["0.812", "0.937", "0.250", "0.500 / 0.429 (6)", "0.800 / 0.571 (5)"]) {
      expect(body, value).toContain(value);
    }
    // A method name from a card is text, never markup.
    expect(body).toContain("&lt;both&gt;");
    expect(body).not.toContain("<both>");
  });
});
