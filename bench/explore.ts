/// <reference lib="dom" />
/**
 * `npm run bench:explore`: how fast `curricula explore` opens and sorts an MNIST-sized experiment.
 * Builds a results tree in a temporary folder: one MNIST run config (dev_split 0.0005, so the train
 * subset holds ~60,000 images), RUNS runs with synthetic per-sample outputs at EPOCHS epochs, and
 * five synthetic score files (one with Cartography's confidence, variability and region columns).
 * Then times, on the server side, loading it (dataset, scores, curves) and the /api/table answer,
 * and in headless Chromium (CHROMIUM_PATH, default /usr/bin/chromium) the page's open (request to
 * first rows), sorts by a score both ways, a class filter, and scrolling (one frame per step).
 *
 * Options (environment): RUNS (2), EPOCHS (5), REPEAT (5: sorts timed, median shown), CHROMIUM_PATH.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { composeGrid } from "../src/config/compose.js";
import { runDir } from "../src/config/layout.js";
import { runName } from "../src/config/naming.js";
import { createDataset } from "../src/data/index.js";
import { loadExplore } from "../src/explore/data.js";
import { startExploreServer } from "../src/explore/server.js";
import { writeExploreStatic } from "../src/explore/static.js";
import { writeScoreRows } from "../src/results/score-table.js";
import { saveOutputs } from "../src/results/subset-outputs.js";
import { Rng } from "../src/util/rng.js";
import { writeYaml } from "../src/util/yaml-io.js";
import { loadAverage } from "./common.js";

const RUNS = Number(process.env.RUNS ?? 2);
const EPOCHS = Number(process.env.EPOCHS ?? 5);
const REPEAT = Number(process.env.REPEAT ?? 5);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCORES = ["CELoss", "AUM", "Forgetting", "EL2N", "Cartography"];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function ranksOf(values: Float64Array): Float64Array {
  const order = Array.from(values.keys()).sort(
    (a, b) => (values[a] as number) - (values[b] as number) || a - b,
  );
  const ranks = new Float64Array(values.length);
  order.forEach((row, r) => {
    ranks[row] = values.length > 1 ? r / (values.length - 1) : 0;
  });
  return ranks;
}

async function buildTree(root: string): Promise<{ resultsDir: string; size: number }> {
  const resultsDir = join(root, "results");
  const [point] = await composeGrid({
    overrides: [
      `results_dir=${resultsDir}`,
      "dataset=MNIST",
      "dataset.dev_split=0.0005",
      "progress_bar=false",
    ],
  });
  if (!point) throw new Error("empty grid");
  const dataset = await createDataset(point.config.dataset);
  const train = dataset.subset("train");
  const n = train.size;
  const rng = new Rng(1);
  for (let r = 0; r < RUNS; r++) {
    const config = { ...point.config, seed: r + 1 };
    const dir = runDir(resultsDir, "default", runName(config as unknown as Record<string, unknown>));
    mkdirSync(dir, { recursive: true });
    writeYaml(join(dir, "config.yaml"), config);
    for (let epoch = 1; epoch <= EPOCHS; epoch++) {
      const epochDir = join(dir, `epoch_${epoch}`);
      mkdirSync(epochDir, { recursive: true });
      const logits = Float32Array.from({ length: n * 10 }, () => rng.normal() * epoch);
      saveOutputs(epochDir, "train", {
        logits,
        numClasses: 10,
        targets: train.labels,
        indices: Int32Array.from({ length: n }, (_, i) => i),
        losses: new Float32Array(n),
      });
    }
  }
  const names = dataset.classNames;
  for (const id of SCORES) {
    const mean = Float64Array.from({ length: n }, () => rng.random());
    const columns = new Map<string, Float64Array>();
    let text: Map<string, string[]> | undefined;
    if (id === "Cartography") {
      const variability = Float64Array.from({ length: n }, () => rng.random() * 0.5);
      columns.set("confidence", mean);
      columns.set("variability", variability);
      text = new Map([
        [
          "region",
          Array.from(mean, (c, i) =>
            (variability[i] as number) > 0.3 ? "ambiguous" : c > 0.5 ? "easy-to-learn" : "hard-to-learn",
          ),
        ],
      ]);
    }
    columns.set("mean", mean);
    columns.set("ranks", ranksOf(mean));
    const dir = join(resultsDir, "default", "curriculum", id);
    mkdirSync(dir, { recursive: true });
    writeScoreRows(join(dir, `${id}.csv`), {
      index: Int32Array.from({ length: n }, (_, i) => i),
      sourceIndex: train.sourceIndex,
      encoded: train.labels,
      decoded: Array.from(train.labels, (c) => names[c] as string),
      columns,
      ...(text ? { text } : {}),
    });
  }
  return { resultsDir, size: n };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "curricula-bench-explore-"));
  try {
    console.log(
      `explore bench: MNIST, ${RUNS} runs × ${EPOCHS} epochs of outputs, ${SCORES.length} scores; load ${loadAverage()}`,
    );
    const built = performance.now();
    const { resultsDir, size } = await buildTree(root);
    console.log(
      `results tree of ${size} samples written in ${((performance.now() - built) / 1000).toFixed(1)} s`,
    );

    const t0 = performance.now();
    const data = await loadExplore(resultsDir, "default");
    const load = performance.now() - t0;
    const t1 = performance.now();
    const json = JSON.stringify(data.table);
    const serialise = performance.now() - t1;
    const t2 = performance.now();
    const copy = writeExploreStatic(data, join(root, "explore.html"));
    const staticTime = performance.now() - t2;
    const server = await startExploreServer(data);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--headless"] });
    const rows: [string, string][] = [
      ["samples", String(size)],
      ["load (dataset, scores, curves)", `${load.toFixed(0)} ms`],
      ["/api/table JSON", `${serialise.toFixed(0)} ms, ${(json.length / 1e6).toFixed(1)} MB`],
      ["--static copy", `${staticTime.toFixed(0)} ms, ${(statSync(copy).size / 1e6).toFixed(1)} MB`],
    ];
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const opened = performance.now();
      await page.goto(server.url);
      await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
      rows.push(["page open (request → first rows)", `${(performance.now() - opened).toFixed(0)} ms`]);
      rows.push(["rows in the DOM", String(await page.$$eval(".row", (r) => r.length))]);

      // One UI action timed inside the page: the click or change (the sort or filter and the rows'
      // re-render run in its handler), then the next frame painted.
      const inPage = (selector: string, value?: string): Promise<number> =>
        page.evaluate(
          async ([selector, value]) => {
            const target = document.querySelector(selector as string) as HTMLElement;
            const start = performance.now();
            if (value === undefined) target.click();
            else {
              (target as HTMLSelectElement).value = value;
              target.dispatchEvent(new Event("change"));
            }
            await new Promise((done) => requestAnimationFrame(done));
            return performance.now() - start;
          },
          [selector, value] as const,
        );
      const clicks = async (selector: string): Promise<{ first: number; cached: number }> => {
        const times: number[] = [];
        for (let i = 0; i < REPEAT; i++) times.push(await inPage(selector));
        return { first: Math.max(times[0] as number, times[1] as number), cached: median(times.slice(2)) };
      };
      const celoss = await clicks('[data-sort-key="CELoss/CELoss/mean"]');
      rows.push(["sort by a score: first time each way (worst)", `${celoss.first.toFixed(0)} ms`]);
      rows.push([`sort by a score: again (median of ${REPEAT - 2})`, `${celoss.cached.toFixed(0)} ms`]);
      const variability = await clicks('[data-sort-key="Cartography/Cartography/variability"]');
      rows.push([
        "sort by Cartography variability: first time (worst)",
        `${variability.first.toFixed(0)} ms`,
      ]);
      rows.push(["filter label = 3", `${(await inPage("#filter-label", "3")).toFixed(0)} ms`]);
      rows.push([
        "filter region = ambiguous, too",
        `${(await inPage("#filters label[title*=\"'region'\"] select", "ambiguous")).toFixed(0)} ms`,
      ]);
      await inPage("#filter-label", "-1");
      await inPage("#filters label[title*=\"'region'\"] select", "");
      // Scrolling: 60 steps of `step` pixels, each timed to the second frame after it.
      const scroll = (step: number) =>
        page.evaluate(async (step) => {
          const view = document.getElementById("table-view") as HTMLElement;
          const times: number[] = [];
          for (let i = 1; i <= 60; i++) {
            const start = performance.now();
            view.scrollTop = i * step;
            await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
            times.push(performance.now() - start);
          }
          times.sort((a, b) => a - b);
          return { median: times[30] as number, worst: times[59] as number };
        }, step);
      const frame = await scroll(4000);
      const small = await scroll(120);
      const map = await page.evaluate(async () => {
        const start = performance.now();
        (document.getElementById("tab-map") as HTMLElement).click();
        await new Promise<void>((done) => {
          const check = () =>
            document.querySelector("#map[data-points] canvas") ? done() : requestAnimationFrame(check);
          check();
        });
        return { time: performance.now() - start, points: document.getElementById("map")?.dataset.points };
      });
      rows.push([`data map (${map.points} points, click → drawn)`, `${map.time.toFixed(0)} ms`]);
      rows.push([
        "scroll by 100 rows (2 frames, median / worst of 60)",
        `${frame.median.toFixed(0)} / ${frame.worst.toFixed(0)} ms`,
      ]);
      rows.push([
        "scroll by 3 rows (2 frames, median / worst of 60)",
        `${small.median.toFixed(0)} / ${small.worst.toFixed(0)} ms`,
      ]);
    } finally {
      await browser.close();
      await server.close();
    }
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
