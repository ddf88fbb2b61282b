/// <reference lib="dom" />
/**
 * The screenshots of docs/explore.md: trains two tiny Digits runs (FFNN, 3 epochs), scores CELoss
 * and Cartography on the first, opens `curricula explore` over them in headless Chromium
 * (CHROMIUM_PATH, default /usr/bin/chromium) and writes docs/explore.png (the table sorted by
 * CELoss), docs/explore-sample.png (a sample with its nearest neighbours) and docs/explore-map.png
 * (the data map with a point hovered and a box brushed).
 *
 *   npx tsc -p bench/tsconfig.json && node node_modules/.cache/curricula-bench/bench/screenshot-explore.js [outDir]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { trainRun } from "../src/assembly/train-run.js";
import { runDir } from "../src/config/layout.js";
import { runName } from "../src/config/naming.js";
import { parseRunConfig } from "../src/config/parse.js";
import { loadExplore } from "../src/explore/data.js";
import { startExploreServer } from "../src/explore/server.js";
import { score } from "../src/scoring/score.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const outDir = resolve(process.argv[2] ?? "docs");
const resultsDir = mkdtempSync(join(tmpdir(), "curricula-explore-shots-"));

try {
  const runs: string[] = [];
  for (const seed of [1, 2]) {
    const config = parseRunConfig({
      results_dir: resultsDir,
      experiment_id: "default",
      seed,
      batch_size: 32,
      learning_rate: 0.01,
      iterations: 3,
      progress_bar: false,
      dataset: { id: "Digits", type: "Digits", shape: "flat", dev_split: 0.2, test_split: 0.2 },
      model: { id: "FFNN", type: "FFNN", hidden_sizes: [16], dropout: 0.1 },
      optimizer: { id: "Adam", type: "Adam" },
    });
    const name = runName(config as unknown as Record<string, unknown>);
    await trainRun(config, { runDir: runDir(resultsDir, "default", name), log: null });
    runs.push(name);
  }
  for (const scoring of ["CELoss", "Cartography"]) {
    await score({
      log: () => {},
      force: false,
      overrides: [
        `results_dir=${resultsDir}`,
        "progress_bar=false",
        "plots=false",
        "correlation=null",
        `curriculum/scoring=${scoring}`,
        `curriculum.scoring.run_name=${runs[0]}`,
      ],
    });
  }
  const data = await loadExplore(resultsDir, "default");
  const server = await startExploreServer(data);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--headless"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(server.url);
    await page.waitForSelector("body[data-ready=true]");
    const header = '[data-sort-key="CELoss/CELoss/mean"]';
    await page.click(header);
    await page.click(header);
    await page.waitForSelector(`${header}[aria-sort=descending]`);
    const second = await page.getAttribute(".row >> nth=1", "data-position");
    await page.click(`.row[data-position="${second}"]`);
    await page.waitForSelector(`#sample[data-loaded="${second}"]`);
    await page.screenshot({ path: join(outDir, "explore.png") });
    // the whole sample view, neighbours included
    await page.setViewportSize({ width: 1280, height: 1300 });
    await page.screenshot({
      path: join(outDir, "explore-sample.png"),
      clip: { x: 840, y: 40, width: 440, height: 1060 },
    });
    await page.setViewportSize({ width: 1280, height: 760 });
    await page.click("#tab-map");
    await page.waitForSelector("#map[data-points] canvas");
    const box = await page.$eval("#map canvas", (c) => {
      const r = c.getBoundingClientRect();
      return { x: r.left, y: r.top, width: r.width, height: r.height };
    });
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.15);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.45, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector("#map-brush[data-selected]:not([data-selected=''])");
    const point = await page.evaluate(() => {
      const view = (
        window as unknown as {
          explore: {
            mapResult: {
              view: {
                origin(): [number, number];
                padding(): { left: number; top: number };
                data(name: string): { x: number; y: number }[];
                scale(name: string): (v: number) => number;
              };
            };
          };
        }
      ).explore.mapResult.view;
      const r = (document.querySelector("#map canvas") as HTMLCanvasElement).getBoundingClientRect();
      const [ox, oy] = view.origin();
      const { left, top } = view.padding();
      // a point near the middle of the plot
      const points = view.data("source_0") as { x: number; y: number }[];
      const mid = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
      const mx = mid(points.map((p) => p.x));
      const my = mid(points.map((p) => p.y));
      const d = points.reduce((best, p) =>
        Math.hypot(p.x - mx, p.y - my) < Math.hypot(best.x - mx, best.y - my) ? p : best,
      );
      return { x: r.left + left + ox + view.scale("x")(d.x), y: r.top + top + oy + view.scale("y")(d.y) };
    });
    await page.mouse.move(point.x, point.y);
    await page.waitForSelector("#vg-tooltip-element.visible");
    await page.screenshot({
      path: join(outDir, "explore-map.png"),
      clip: { x: 0, y: 0, width: 840, height: 660 },
    });
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(`wrote explore.png, explore-sample.png, explore-map.png to ${outDir}`);
} finally {
  rmSync(resultsDir, { recursive: true, force: true });
}
