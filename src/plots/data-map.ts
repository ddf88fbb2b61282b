import { Rng } from "../util/rng.js";
import { CHART_FONT, type VegaLiteSpec } from "./render.js";

/**
 * The data map of Dataset Cartography (Swayamdipta et al. 2020): one point per sample at
 * (variability, confidence), coloured by correctness, with the region thresholds drawn as rules.
 * Large subsets are drawn from a seeded sample of `maxPoints` samples so the SVG stays small; the
 * title says how many are shown.
 */
export interface DataMapOptions {
  confidence: ArrayLike<number>;
  variability: ArrayLike<number>;
  correctness: ArrayLike<number>;
  title: string;
  /** Region thresholds (Cartography's `confidence_threshold` and `variability_threshold`). */
  thresholds?: { confidence: number; variability: number };
  /** At most this many points (a seeded sample); default 4000. */
  maxPoints?: number;
  seed?: number;
  width?: number;
  height?: number;
}

export function dataMap(o: DataMapOptions): VegaLiteSpec {
  const n = o.confidence.length;
  if (o.variability.length !== n || o.correctness.length !== n) {
    throw new RangeError(
      `dataMap: ${n} confidences, ${o.variability.length} variabilities, ${o.correctness.length} correctness values`,
    );
  }
  const max = o.maxPoints ?? 4000;
  const picked =
    n <= max
      ? Int32Array.from({ length: n }, (_, i) => i)
      : new Rng(o.seed ?? 0)
          .permutation(n)
          .subarray(0, max)
          .sort((a, b) => a - b);
  const values = Array.from(picked, (i) => ({
    variability: o.variability[i] as number,
    confidence: o.confidence[i] as number,
    correctness: Math.round((o.correctness[i] as number) * 1000) / 1000,
  }));
  const layers: Record<string, unknown>[] = [
    {
      data: { values },
      mark: { type: "circle", size: 14, opacity: 0.6 },
      encoding: {
        x: {
          field: "variability",
          type: "quantitative",
          title: "variability (std of p_y over evaluations)",
          scale: { domain: [0, 0.5] },
        },
        y: {
          field: "confidence",
          type: "quantitative",
          title: "confidence (mean p_y)",
          scale: { domain: [0, 1] },
        },
        color: {
          field: "correctness",
          type: "quantitative",
          title: "correctness",
          scale: { scheme: "viridis", domain: [0, 1] },
        },
      },
    },
  ];
  if (o.thresholds) {
    layers.push(
      {
        data: { values: [{ v: o.thresholds.variability }] },
        mark: { type: "rule", strokeDash: [4, 3], color: "#555" },
        encoding: { x: { field: "v", type: "quantitative" } },
      },
      {
        data: { values: [{ c: o.thresholds.confidence, v0: 0, v1: o.thresholds.variability }] },
        mark: { type: "rule", strokeDash: [4, 3], color: "#555" },
        encoding: {
          y: { field: "c", type: "quantitative" },
          x: { field: "v0", type: "quantitative" },
          x2: { field: "v1" },
        },
      },
    );
  }
  const shown = picked.length < n ? ` (${picked.length} of ${n} samples)` : ` (${n} samples)`;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `${o.title}${shown}`,
    width: o.width ?? 420,
    height: o.height ?? 320,
    config: {
      font: CHART_FONT,
      background: "white",
      view: { stroke: null },
      axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: "#e5e5e5" },
      title: { fontSize: 14, anchor: "middle" },
    },
    layer: layers,
  } as unknown as VegaLiteSpec;
}
