#!/usr/bin/env node
// Screenshot of a curricula report (for docs/report.png and the README).
// Usage: node bench/screenshot-report.mjs <report.html> [out.png] [--full] [--width 1400]
// Needs Debian's chromium (/usr/bin/chromium, or CHROMIUM_PATH) and playwright-core.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
const positional = args.filter((a, i) => !a.startsWith("--") && !(args[i - 1] ?? "").startsWith("--width"));
const [reportArg, outArg = "docs/report.png"] = positional;
if (!reportArg) {
  console.error("usage: node bench/screenshot-report.mjs <report.html> [out.png] [--full] [--width PX]");
  process.exit(2);
}
const widthIndex = args.indexOf("--width");
const width = widthIndex >= 0 ? Number(args[widthIndex + 1]) : 1400;
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`${executablePath}: chromium not found (apt-get install chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}
const browser = await chromium.launch({
  executablePath,
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
  const page = await browser.newPage({ viewport: { width, height: 1000 }, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(resolve(reportArg)).href, { waitUntil: "load" });
  const out = resolve(outArg);
  await page.screenshot({ path: out, fullPage: args.includes("--full") });
  console.log(out);
} finally {
  await browser.close();
}
