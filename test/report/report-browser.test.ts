/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, expect, test } from "vitest";
import type { Dataset } from "../../src/data/types.js";
import { writeReport } from "../../src/report/index.js";
import { describeWith, systemFile } from "../support/system.js";
import { FIXTURE_EXPERIMENT, fakeImageDataset, writeFixture } from "./fixture.js";

/**
 * Opens the report in headless Chromium (Debian's `chromium` package) and checks that every figure
 * rendered with a nonzero size and that the page logged no error. Skipped, saying why, only on a
 * developer's machine without the browser; CI installs it.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const root = mkdtempSync(join(tmpdir(), "curricula-browser-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeWith(systemFile(CHROMIUM, "chromium"), `report in headless Chromium (${CHROMIUM})`, () => {
  test("every figure and image renders with a nonzero size and the console stays clean", {
    timeout: 60_000,
  }, async () => {
    writeFixture(root);
    const path = await writeReport(root, FIXTURE_EXPERIMENT, {
      datasetLoader: async (): Promise<Dataset> => fakeImageDataset(),
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--headless",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      page.on("pageerror", (error) => errors.push(error.message));
      page.on("request", (request) => {
        if (!request.url().startsWith("file:") && !request.url().startsWith("data:"))
          requests.push(request.url());
      });
      await page.goto(pathToFileURL(path).href, { waitUntil: "load" });
      const sizes = await page.evaluate(() => {
        const box = (el: Element) => {
          const r = el.getBoundingClientRect();
          return { width: r.width, height: r.height };
        };
        return {
          figures: [...document.querySelectorAll("figure")].map((f) => ({ id: f.id, ...box(f) })),
          svgs: [...document.querySelectorAll("figure svg")].map((s) => ({
            id: s.closest("figure")?.id ?? "",
            ...box(s),
          })),
          images: [...document.querySelectorAll("img")].map((img) => ({
            complete: img.complete,
            naturalWidth: (img as HTMLImageElement).naturalWidth,
            ...box(img),
          })),
        };
      });
      // 13 charts plus a confusion matrix per condition, and the verdict's dev metric against samples seen
      expect(sizes.figures.length).toBe(18);
      expect(sizes.svgs.length).toBe(sizes.figures.length);
      for (const f of [...sizes.figures, ...sizes.svgs]) {
        expect(f.width, `${f.id} width`).toBeGreaterThan(50);
        expect(f.height, `${f.id} height`).toBeGreaterThan(50);
      }
      expect(sizes.images.length).toBeGreaterThan(0);
      for (const img of sizes.images) {
        expect(img.complete && img.naturalWidth > 0, "thumbnail decoded").toBe(true);
        expect(img.width).toBeGreaterThan(0);
      }
      expect(errors, "console errors").toEqual([]);
      expect(requests, "network requests").toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
