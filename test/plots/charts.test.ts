import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  barChart,
  facetHistogram,
  heatmap,
  histogram,
  lineChart,
  ridgePlot,
} from "../../src/plots/charts.js";
import { renderPlot, renderSvg, svgToPng, type VegaLiteSpec } from "../../src/plots/render.js";
import { Rng } from "../../src/util/rng.js";

const dir = mkdtempSync(join(tmpdir(), "curricula-charts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rng = new Rng(7);
const values = Array.from({ length: 300 }, () => rng.random());
const groups = values.map((_, i) => String(i % 4));

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

const cases: [string, VegaLiteSpec, string[]][] = [
  [
    "lineChart",
    lineChart({
      data: [0, 1, 2].flatMap((i) => [
        { iteration: i, "accuracy.std": i / 4, run: "a" },
        { iteration: i, "accuracy.std": i / 5, run: "b" },
      ]),
      x: "iteration",
      y: "accuracy.std",
      color: "run",
      title: "Dev accuracy",
      xTitle: "iteration",
      yTitle: "accuracy",
      step: true,
    }),
    ["Dev accuracy", "iteration"],
  ],
  [
    "heatmap",
    heatmap({
      matrix: [
        [1, 0.831234],
        [0.831234, 1],
      ],
      labels: ["CELoss", "Random"],
      title: "Spearman",
    }),
    ["83.12%", "100.00%", "CELoss", "Random"],
  ],
  [
    "histogram",
    histogram({ values, bins: 20, title: "Score histogram", xTitle: "mean" }),
    ["Score histogram", "mean"],
  ],
  [
    "facetHistogram",
    facetHistogram({ values, groups, bins: 10, domain: [0, 1], stat: "percent", title: "Percent per class" }),
    ["0 (75 samples)", "3 (75 samples)", "ratio [%]"],
  ],
  ["ridgePlot", ridgePlot({ values, groups, title: "Ridge per class", domain: [0, 1] }), ["Ridge per class"]],
  [
    "barChart",
    barChart({
      data: [
        { x: "Curriculum", value: 0.9 },
        { x: "Curriculum", value: 0.95 },
        { x: "Baseline", value: 0.85 },
      ],
      title: "Test accuracy",
      yTitle: "accuracy",
    }),
    ["Test accuracy", "Curriculum", "Baseline"],
  ],
];

describe("chart builders", () => {
  test.each(cases)("%s renders to SVG with its text and to a non-empty PNG", async (name, spec, texts) => {
    const paths = await renderPlot(spec, join(dir, name));
    const svg = readFileSync(paths.svg, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    for (const text of texts) expect(svg, `expected "${text}" in the ${name} SVG`).toContain(text);
    const png = new Uint8Array(readFileSync(paths.png));
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    const size = pngSize(png);
    expect(size.width).toBeGreaterThan(100);
    expect(size.height).toBeGreaterThan(100);
  });

  test("PNG text is drawn with a system font (text changes the pixels)", async () => {
    const base = await renderSvg(histogram({ values: [1, 2, 3], bins: 3, title: "" }));
    const titled = await renderSvg(histogram({ values: [1, 2, 3], bins: 3, title: "A long title WWWWWW" }));
    // same drawing apart from the title: the PNGs must differ if text is rasterised
    expect(Buffer.from(svgToPng(titled, 1)).equals(Buffer.from(svgToPng(base, 1)))).toBe(false);
  });

  test("heatmap rejects a matrix whose shape does not match the labels", () => {
    expect(() => heatmap({ matrix: [[1, 2]], labels: ["a", "b"], title: "x" })).toThrow(
      /1 rows but 2 labels/,
    );
  });

  test("an invalid spec is reported with the plot's title", async () => {
    const bad = { title: "Broken", mark: "nonsense-mark", data: { values: [] } } as unknown as VegaLiteSpec;
    await expect(renderSvg(bad)).rejects.toThrow(/Broken/);
  });
});
