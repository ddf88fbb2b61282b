/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createRunDataset } from "../../src/assembly/review.js";
import { trainRun } from "../../src/assembly/train-run.js";
import { runDir } from "../../src/config/layout.js";
import { runName } from "../../src/config/naming.js";
import { type ExploreData, loadExplore, sampleNeighbours, savedTags } from "../../src/explore/data.js";
import { type ExploreServer, startExploreServer } from "../../src/explore/server.js";
import { writeExploreStatic } from "../../src/explore/static.js";
import { readReviewTags, reviewTagsPath } from "../../src/results/review-tags.js";
import { readRunConfig } from "../../src/results/run-folder.js";
import { loadNpy } from "../../src/util/npy.js";
import { digitsConfig } from "../scoring/fixture.js";
import { describeWith, systemFile } from "../support/system.js";
import { digitsExperiment, HOSTILE, hostileData } from "./fixture.js";

/**
 * Drives the explorer in headless Chromium (Debian's `chromium` package; no browser is downloaded)
 * over two tiny Digits runs and their CELoss score: sort, filter, open a sample, tag four samples
 * with the keyboard, reload and find the tags, then train a run with `dataset.exclude` of that
 * tags file and find exactly the three mislabelled and ambiguous samples left out; the sample
 * view's nearest neighbours; the data map's tooltip, click and brush; text from the results (class
 * names, file names, column names) stays text. Every wait is on the page's state.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const WAIT = { timeout: 30_000 };
const scratch = mkdtempSync(join(tmpdir(), "curricula-explore-browser-"));

describeWith(systemFile(CHROMIUM, "chromium"), `explore in headless Chromium (${CHROMIUM})`, () => {
  let fixture: Awaited<ReturnType<typeof digitsExperiment>>;
  let data: ExploreData;
  let server: ExploreServer;
  let browser: Browser;
  const errors: string[] = [];
  /** Source indices of the samples the first test tags mislabelled or ambiguous. */
  let excludedSources: number[] = [];

  beforeAll(async () => {
    fixture = await digitsExperiment();
    data = await loadExplore(fixture.resultsDir, "default");
    server = await startExploreServer(data);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--headless",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (fixture) rmSync(fixture.resultsDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  async function open(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`${url}: ${message.text()}`);
    });
    page.on("pageerror", (error) => errors.push(`${url}: ${error.message}`));
    await page.goto(url);
    await page.waitForSelector("body[data-ready=true]", WAIT);
    return page;
  }

  const firstPosition = async (page: Page) =>
    Number(await page.getAttribute(".row >> nth=0", "data-position"));

  test("sort by a score, filter a class, open a sample, tag four with the keyboard, reload and find the tags", {
    timeout: 120_000,
  }, async () => {
    const page = await open(server.url);
    const t = data.table;
    const celoss = t.columns.find((c) => c.label === "CELoss")?.values as number[];
    const header = '[data-sort-key="CELoss/CELoss/mean"]';

    await page.click(header);
    await page.waitForSelector(`${header}[aria-sort=ascending]`, WAIT);
    expect(await firstPosition(page)).toBe(celoss.indexOf(Math.min(...celoss)));
    await page.click(header);
    await page.waitForSelector(`${header}[aria-sort=descending]`, WAIT);
    expect(await firstPosition(page)).toBe(celoss.indexOf(Math.max(...celoss)));

    const three = t.classNames.indexOf("3");
    const threes = t.label.filter((code) => code === three).length;
    await page.selectOption("#filter-label", String(three));
    await page.waitForFunction(
      (text) => document.getElementById("count")?.textContent === text,
      `${threes} of ${t.size} samples`,
      WAIT,
    );
    const labels = await page.$$eval(".row .label", (cells) => cells.map((c) => c.textContent));
    expect(labels.length).toBeGreaterThan(5);
    expect(new Set(labels)).toEqual(new Set(["3"]));
    // still sorted by CELoss, descending, within the class
    const hardestThree = t.label.reduce(
      (best, code, p) =>
        code === three && (best < 0 || (celoss[p] as number) > (celoss[best] as number)) ? p : best,
      -1,
    );
    expect(await firstPosition(page)).toBe(hardestThree);

    const rows = await page.$$eval(".row", (r) =>
      r.slice(0, 4).map((row) => Number(row.getAttribute("data-position"))),
    );
    await page.click(`.row[data-position="${rows[0]}"]`);
    await page.waitForSelector(`#sample[data-loaded="${rows[0]}"]`, WAIT);
    expect(await page.textContent("#sample-label")).toBe("3");
    expect(await page.$$eval("#sample-runs tr", (r) => r.length)).toBe(3);
    await page.waitForSelector("#sample-curve svg", WAIT);

    const saved = (n: number) => page.waitForSelector(`body[data-tags-saved="${n}"]`, WAIT);
    await page.keyboard.press("m");
    await saved(1);
    await page.keyboard.press("j");
    await page.waitForSelector(`#sample[data-loaded="${rows[1]}"]`, WAIT);
    await page.keyboard.press("a");
    await saved(2);
    await page.keyboard.press("ArrowDown");
    await page.waitForSelector(`#sample[data-loaded="${rows[2]}"]`, WAIT);
    await page.keyboard.press("m");
    await saved(3);
    await page.keyboard.press("j");
    await page.waitForSelector(`#sample[data-loaded="${rows[3]}"]`, WAIT);
    await page.keyboard.press("7");
    await saved(4);
    expect(await page.textContent("#sample-tag")).toBe("relabel → 7");

    const source = (p: number | undefined) => t.sourceIndex[p as number] as number;
    const expected = [
      [source(rows[0]), "mislabelled", null],
      [source(rows[1]), "ambiguous", null],
      [source(rows[2]), "mislabelled", null],
      [source(rows[3]), "relabel", "7"],
    ].sort((a, b) => (a[0] as number) - (b[0] as number));
    const written = readReviewTags(reviewTagsPath(fixture.resultsDir, "default"));
    expect(written.map((tag) => [tag.sourceIndex, tag.tag, tag.newLabel])).toEqual(expected);

    await page.reload();
    await page.waitForSelector("body[data-ready=true]", WAIT);
    await page.selectOption("#filter-tag", "tagged");
    await page.waitForFunction(
      (text) => document.getElementById("count")?.textContent === text,
      `4 of ${t.size} samples`,
      WAIT,
    );
    const tags = await page.$$eval(".row", (r) =>
      r.map((row) => [Number(row.getAttribute("data-position")), row.querySelector(".tag")?.textContent]),
    );
    expect(new Map(tags as [number, string][])).toEqual(
      new Map([
        [rows[0], "mislabelled"],
        [rows[1], "ambiguous"],
        [rows[2], "mislabelled"],
        [rows[3], "relabel → 7"],
      ]),
    );
    // the tags file, served from the experiment's folder by the page's link
    const served = await page.evaluate(async () => {
      const link = document.getElementById("tags-file") as HTMLAnchorElement;
      return (await fetch(link.href)).text();
    });
    expect(served.split("\n")[0]).toBe("source_index,tag,new_label,time");
    expect(served).toContain(",relabel,7,");
    await page.close();
    expect(errors).toEqual([]);
    excludedSources = [source(rows[0]), source(rows[1]), source(rows[2])];
  });

  test("a run trained with dataset.exclude of the tags the page wrote leaves out exactly the three samples tagged mislabelled or ambiguous", {
    timeout: 180_000,
  }, async () => {
    expect(excludedSources).toHaveLength(3);
    const tags = reviewTagsPath(fixture.resultsDir, "default");
    const resultsDir = join(scratch, "excluded");
    const config = digitsConfig(resultsDir, 1, { iterations: 1 });
    const excluding = digitsConfig(resultsDir, 1, {
      iterations: 1,
      dataset: { ...config.dataset, exclude: tags },
    });
    const dir = runDir(resultsDir, "default", runName(excluding as unknown as Record<string, unknown>));
    await trainRun(excluding, { runDir: dir, log: null });
    // The run's train outputs: one row per sample it trained on, by position in its train subset.
    const indices = Array.from(loadNpy(join(dir, "epoch_1", "train_indices.npy")).data);
    const targets = Array.from(loadNpy(join(dir, "epoch_1", "train_targets.npy")).data);
    expect(indices).toHaveLength(data.table.size - 3);
    // Those positions' source indices, in the dataset its saved config.yaml rebuilds.
    const saved = readRunConfig(dir);
    expect(saved.dataset.exclude).toBe(tags);
    const train = (await createRunDataset(saved.dataset)).subset("train");
    const trained = indices.map((p) => train.sourceIndex[p] as number);
    expect(targets).toEqual(indices.map((p) => train.labels[p] as number));
    const explored = data.table.sourceIndex;
    expect(new Set(trained)).toEqual(new Set(explored.filter((s) => !excludedSources.includes(s))));
    // and every one of them kept its label: the relabel tag applies only with dataset.relabel
    const labelOf = new Map(explored.map((s, p) => [s, data.table.label[p] as number]));
    expect(trained.map((s, i) => [s, targets[i]])).toEqual(trained.map((s) => [s, labelOf.get(s)]));
  });

  test("the sample view lists its nearest neighbours in the model's output space with their labels; a click opens one", {
    timeout: 60_000,
  }, async () => {
    const page = await open(server.url);
    const t = data.table;
    const position = 5;
    await page.click(`.row[data-position="${position}"]`);
    await page.waitForSelector(`#sample[data-loaded="${position}"]`, WAIT);
    const expected = sampleNeighbours(data, position, 8);
    expect(expected?.neighbours).toHaveLength(8);
    const shown = await page.$$eval("#sample-neighbours .neighbour", (items) =>
      items.map((item) => [
        Number(item.getAttribute("data-position")),
        item.querySelector(".neighbour-label")?.textContent,
      ]),
    );
    expect(shown).toEqual(expected?.neighbours.map((n) => [n.position, n.label]));
    expect(await page.textContent("#sample-neighbours")).toContain("softmax outputs of run");
    const first = expected?.neighbours[0]?.position as number;
    await page.click(`#sample-neighbours .neighbour[data-position="${first}"]`);
    await page.waitForSelector(`#sample[data-loaded="${first}"]`, WAIT);
    expect(await page.textContent("#sample-label")).toBe(t.classNames[t.label[first] as number]);
    await page.close();
    expect(errors).toEqual([]);
  });

  test("the table renders only the rows in view, and scrolling brings the next ones", {
    timeout: 60_000,
  }, async () => {
    const page = await open(server.url);
    const count = await page.$$eval(".row", (r) => r.length);
    expect(count).toBeGreaterThan(5);
    expect(count).toBeLessThan(60);
    await page.$eval("#table-view", (view) => {
      view.scrollTop = 20_000;
    });
    await page.waitForFunction(
      () => Number(document.querySelector(".row")?.getAttribute("data-position")) > 100,
      undefined,
      WAIT,
    );
    expect(await page.$$eval(".row", (r) => r.length)).toBeLessThan(60);
    await page.close();
  });

  test("the data map draws every sample, a click on a point opens it, and it follows the filters", {
    timeout: 60_000,
  }, async () => {
    const page = await open(server.url);
    await page.click("#tab-map");
    await page.waitForSelector(`#map[data-points="${data.table.size}"] canvas`, WAIT);
    const t = data.table;
    const position = 17;
    const xKey = await page.inputValue("#map-x");
    const yKey = await page.inputValue("#map-y");
    const x = t.columns.find((c) => c.key === xKey)?.values[position] as number;
    const y = t.columns.find((c) => c.key === yKey)?.values[position] as number;
    // Where vega drew that sample: the canvas's place plus the plot's origin plus the scales.
    // Where vega drew a sample: the canvas's place, its padding and plot origin, then the scales.
    const drawnAt = (vx: number, vy: number) =>
      page.evaluate(
        ([vx, vy]) => {
          const view = (
            window as unknown as {
              explore: {
                mapResult: {
                  view: {
                    origin(): [number, number];
                    padding(): { left: number; top: number };
                    scale(name: string): (v: number) => number;
                  };
                };
              };
            }
          ).explore.mapResult.view;
          const box = (document.querySelector("#map canvas") as HTMLCanvasElement).getBoundingClientRect();
          const [ox, oy] = view.origin();
          const { left, top } = view.padding();
          return {
            x: box.left + left + ox + view.scale("x")(vx as number),
            y: box.top + top + oy + view.scale("y")(vy as number),
          };
        },
        [vx, vy],
      );
    const at = await drawnAt(x, y);
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector("#sample[data-loaded]", WAIT);
    const opened = Number(await page.getAttribute("#sample", "data-loaded"));
    // the point clicked, or one drawn over it within a few pixels
    const value = (key: string, p = opened) => t.columns.find((c) => c.key === key)?.values[p] as number;
    const where = await drawnAt(value(xKey), value(yKey));
    expect(Math.hypot(where.x - at.x, where.y - at.y)).toBeLessThan(6);
    // hovering a point shows its label and values
    await page.mouse.move(at.x + 40, at.y + 40);
    await page.mouse.move(where.x, where.y);
    await page.waitForSelector("#vg-tooltip-element.visible", WAIT);
    const tooltip = (await page.textContent("#vg-tooltip-element")) ?? "";
    // (the topmost of the points drawn there): its position, label and both values
    const hovered = Number(/^position(\d+)label/.exec(tooltip)?.[1]);
    expect(tooltip).toContain(`position${hovered}label${t.classNames[t.label[hovered] as number]}`);
    const hoveredAt = await drawnAt(value(xKey, hovered), value(yKey, hovered));
    expect(Math.hypot(hoveredAt.x - where.x, hoveredAt.y - where.y)).toBeLessThan(6);
    // dragging a box keeps only the samples inside it in the table
    const xs = ((t.columns.find((c) => c.key === xKey)?.values ?? []) as number[]).filter(Number.isFinite);
    const ys = ((t.columns.find((c) => c.key === yKey)?.values ?? []) as number[]).filter(Number.isFinite);
    const quantile = (v: number[], q: number) =>
      [...v].sort((a, b) => a - b)[Math.floor(q * (v.length - 1))] as number;
    const from = await drawnAt(quantile(xs, 0.2), quantile(ys, 0.8));
    const to = await drawnAt(quantile(xs, 0.8), quantile(ys, 0.2));
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
    await page.mouse.move(to.x, to.y, { steps: 4 });
    await page.mouse.up();
    await page.waitForSelector("#map-brush[data-selected]:not([data-selected=''])", WAIT);
    const box = await page.evaluate(() =>
      (
        window as unknown as {
          explore: { mapResult: { view: { signal(name: string): { x: number[]; y: number[] } } } };
        }
      ).explore.mapResult.view.signal("brush"),
    );
    const inside = (v: number, [a, b]: number[]) =>
      v >= Math.min(a as number, b as number) && v <= Math.max(a as number, b as number);
    const brushed = t.label
      .map((_, p) => p)
      .filter((p) => {
        const vx = t.columns.find((c) => c.key === xKey)?.values[p];
        const vy = t.columns.find((c) => c.key === yKey)?.values[p];
        return typeof vx === "number" && typeof vy === "number" && inside(vx, box.x) && inside(vy, box.y);
      });
    expect(brushed.length).toBeGreaterThan(0);
    expect(brushed.length).toBeLessThan(t.size);
    expect(Number(await page.getAttribute("#map-brush", "data-selected"))).toBe(brushed.length);
    await page.click("#tab-table");
    await page.waitForFunction(
      (text) => document.getElementById("count")?.textContent === text,
      `${brushed.length} of ${t.size} samples`,
      WAIT,
    );
    const listed = await page.$$eval(".row", (r) =>
      r.map((row) => Number(row.getAttribute("data-position"))),
    );
    expect(listed.length).toBeGreaterThan(0);
    for (const p of listed) expect(brushed).toContain(p);
    await page.click("#tab-map");
    await page.waitForFunction(
      (text) => document.getElementById("count")?.textContent === text,
      `${t.size} of ${t.size} samples`,
      WAIT,
    );
    // the map shows the samples that pass the filters
    const three = t.classNames.indexOf("3");
    await page.selectOption("#filter-label", String(three));
    await page.waitForSelector(`#map[data-points="${t.label.filter((c) => c === three).length}"]`, WAIT);
    await page.close();
  });

  test("the static copy opens from a file with no network: images, curves, sort; tags cannot be changed", {
    timeout: 60_000,
  }, async () => {
    const copy = join(scratch, "digits.html");
    writeExploreStatic(data, copy);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const requests: string[] = [];
    page.on("request", (request) => {
      if (!/^(file|data|blob):/.test(request.url())) requests.push(request.url());
    });
    page.on("pageerror", (error) => errors.push(`static: ${error.message}`));
    await page.goto(pathToFileURL(copy).href);
    await page.waitForSelector("body[data-ready=true]", WAIT);
    expect(await page.getAttribute(".row img >> nth=0", "src")).toMatch(/^data:image\/png;base64,/);
    const header = '[data-sort-key="CELoss/CELoss/ranks"]';
    await page.click(header);
    await page.click(header);
    await page.waitForSelector(`${header}[aria-sort=descending]`, WAIT);
    const ranks = data.table.columns.find((c) => c.label === "CELoss rank")?.values as number[];
    const hardest = ranks.indexOf(Math.max(...ranks));
    expect(await firstPosition(page)).toBe(hardest);
    await page.click(`.row[data-position="${hardest}"]`);
    await page.waitForSelector(`#sample[data-loaded="${hardest}"] #sample-curve svg`, WAIT);
    const before = savedTags(fixture.resultsDir, "default");
    await page.keyboard.press("m");
    await page.waitForFunction(
      () => document.getElementById("status")?.textContent === "read-only copy: tags are not saved",
      undefined,
      WAIT,
    );
    expect(savedTags(fixture.resultsDir, "default")).toEqual(before);
    expect(requests).toEqual([]);
    await page.close();
    expect(errors).toEqual([]);
  });

  test("class names, file names, column names and values from the results are shown as text, never run", {
    timeout: 60_000,
  }, async () => {
    const hostile = hostileData();
    const hostileServer = await startExploreServer(hostile);
    const copy = join(scratch, "hostile.html");
    writeExploreStatic(hostile, copy);
    try {
      for (const url of [hostileServer.url, pathToFileURL(copy).href]) {
        const page = await open(url);
        const options = await page.$$eval("#filter-label option", (o) => o.map((x) => x.textContent));
        expect(options).toEqual(["any", HOSTILE.script, HOSTILE.img, HOSTILE.close]);
        await page.click('.row[data-position="1"]');
        await page.waitForSelector('#sample[data-loaded="1"]', WAIT);
        expect(await page.textContent("#sample-label")).toBe(HOSTILE.img);
        expect(await page.textContent("#sample .file")).toBe(`${HOSTILE.img}1.png`);
        expect(await page.textContent("#problems")).toBe(HOSTILE.script);
        const headers = await page.$$eval("#table-head > div", (h) => h.map((x) => x.textContent));
        expect(headers).toContain(HOSTILE.img);
        const injected = await page.evaluate(() => ({
          xss: (window as unknown as { __xss?: number }).__xss,
          images: document.querySelectorAll("img[onerror]").length,
          scripts: document.querySelectorAll("script").length,
        }));
        expect(injected).toEqual({ xss: undefined, images: 0, scripts: url.startsWith("file:") ? 2 : 1 });
        await page.close();
      }
    } finally {
      await hostileServer.close();
      rmSync(hostile.resultsDir, { recursive: true, force: true });
    }
    expect(errors).toEqual([]);
  });
});
