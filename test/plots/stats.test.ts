import { describe, expect, test } from "vitest";
import { barRows, groupedBins, sortLabels } from "../../src/plots/charts.js";
import { binCounts, binEdges, gaussianKde, linspace, meanStd } from "../../src/plots/stats.js";

describe("stats", () => {
  test("binCounts uses half-open bins and includes the right edge in the last bin", () => {
    const edges = [0, 0.5, 1];
    expect(binCounts([0, 0.25, 0.5, 0.75, 1, 1.5, Number.NaN], edges)).toEqual([2, 3]);
  });

  test("binEdges widens a constant sample so it still has a range", () => {
    expect(binEdges([2, 2, 2], 2)).toEqual([1.5, 2, 2.5]);
    expect(() => binEdges([1], 0)).toThrow(/positive integer/);
  });

  test("linspace includes both ends", () => {
    expect(linspace(0, 1, 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  test("meanStd uses the sample standard deviation and 0 for one value", () => {
    const { mean, std } = meanStd([1, 2, 3, 4]);
    expect(mean).toBe(2.5);
    expect(std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(meanStd([7])).toEqual({ mean: 7, std: 0, n: 1 });
  });

  test("gaussianKde integrates to about 1 and peaks at the data", () => {
    const values = [0.4, 0.5, 0.6];
    const grid = linspace(-1, 2, 3001);
    const density = gaussianKde(values, grid, 1);
    const step = (grid[1] as number) - (grid[0] as number);
    const area = density.reduce((a, b) => a + b, 0) * step;
    expect(area).toBeCloseTo(1, 3);
    const peak = grid[density.indexOf(Math.max(...density))];
    expect(peak).toBeCloseTo(0.5, 2);
    // Scott bandwidth for [0, 1]: sample std √0.5 times 2^(-1/5); density at 0 by hand
    const h = Math.sqrt(0.5) * 2 ** -0.2;
    const expected = (1 + Math.exp(-0.5 / (h * h))) / (2 * h * Math.sqrt(2 * Math.PI));
    expect(gaussianKde([0, 1], [0], 1)[0]).toBeCloseTo(expected, 12);
    expect(gaussianKde([0, 1], [0], 0.5)[0]).toBeGreaterThan(expected);
    // a constant sample falls back to a fixed bandwidth of 0.01
    expect(gaussianKde([0.5], [0.5], 1)[0]).toBeCloseTo(1 / (0.01 * Math.sqrt(2 * Math.PI)), 6);
  });
});

describe("chart rows", () => {
  test("groupedBins gives per-class percentages and titles with the class size", () => {
    const rows = groupedBins([0.1, 0.2, 0.9, 0.6], ["b", "a", "a", "b"], [0, 0.5, 1], "percent");
    expect(rows).toEqual([
      { group: "a", label: "a (2 samples)", start: 0, end: 0.5, value: 50 },
      { group: "a", label: "a (2 samples)", start: 0.5, end: 1, value: 50 },
      { group: "b", label: "b (2 samples)", start: 0, end: 0.5, value: 50 },
      { group: "b", label: "b (2 samples)", start: 0.5, end: 1, value: 50 },
    ]);
    const counts = groupedBins([0.1, 0.2, 0.3], ["x", "x", "x"], [0, 0.5, 1], "count");
    expect(counts.map((r) => r.value)).toEqual([3, 0]);
    expect(() => groupedBins([1], [], [0, 1], "count")).toThrow(/1 values but 0 group labels/);
  });

  test("barRows averages observations per bar with sample std", () => {
    const rows = barRows([
      { x: "Curriculum", value: 0.8 },
      { x: "Curriculum", value: 1.0 },
      { x: "Random", value: 0.5 },
    ]);
    expect(rows[0]).toMatchObject({ x: "Curriculum", n: 2 });
    expect(rows[0]?.mean).toBeCloseTo(0.9, 12);
    expect(rows[0]?.std).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(rows[1]).toMatchObject({ x: "Random", mean: 0.5, std: 0, lo: 0.5, hi: 0.5 });
  });

  test("sortLabels sorts numeric class labels as numbers", () => {
    expect(sortLabels(["10", "2", "1", "2"])).toEqual(["1", "2", "10"]);
    expect(sortLabels(["dog", "cat"])).toEqual(["cat", "dog"]);
  });
});
