import { CHART_FONT, type VegaLiteSpec } from "./render.js";
import { binCounts, binEdges, extent, gaussianKde, linspace, meanStd } from "./stats.js";

/**
 * Typed builders of the vega-lite specs curricula draws: training and pace curves, correlation
 * heatmaps, score histograms (overall, per class, ridge) and bars with mean ± std. Numbers are
 * computed here (bins, densities, mean ± std) so the charts are exact and reproducible, and vega-lite
 * only draws. Each builder returns a plain spec; pass it to `renderPlot` or `renderSvg`.
 */

/** seaborn's "colorblind" palette (the default palette of the plotting config). */
export const COLORBLIND = [
  "#0173b2",
  "#de8f05",
  "#029e73",
  "#d55e00",
  "#cc78bc",
  "#ca9161",
  "#fbafe4",
  "#949494",
  "#ece133",
  "#56b4e9",
];

/** `#rrggbb` of hue (degrees), saturation and lightness (0..1). */
export function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * c)
      .toString(16)
      .padStart(2, "0");
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/** Hue, saturation, lightness of `#rrggbb`. */
export function hexToHsl(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.replace("#", ""), 16);
  const r = ((v >> 16) & 255) / 255;
  const g = ((v >> 8) & 255) / 255;
  const b = (v & 255) / 255;
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l = (max + min) / 2;
  if (max === min) return [0, 0, l];
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  const h =
    max === r
      ? ((g - b) / d + (g < b ? 6 : 0)) * 60
      : max === g
        ? ((b - r) / d + 2) * 60
        : ((r - g) / d + 4) * 60;
  return [h, s, l];
}

/** Fills `out` up to `n` distinct colours with `make(k)` for k = 0, 1, ... (skipping repeats). */
function fillDistinct(out: string[], n: number, make: (k: number) => string): string[] {
  const seen = new Set(out);
  for (let k = 0; out.length < n && k < 100 * n + 100; k++) {
    const c = make(k);
    if (!seen.has(c)) {
      seen.add(c);
      out.push(c);
    }
  }
  return out;
}

/**
 * `n` colours that never repeat: the colorblind palette first, then evenly spaced hues at
 * alternating lightness (a chart with 26 classes gets 26 different colours).
 */
export function distinctColors(n: number): string[] {
  const out = COLORBLIND.slice(0, n);
  const extra = Math.max(1, n - COLORBLIND.length);
  return fillDistinct(out, n, (k) =>
    hslToHex((k * 360) / extra + 15 * Math.floor(k / extra), 0.65, [0.42, 0.62, 0.3][k % 3] as number),
  );
}

/**
 * `n` distinct shades of one family: the given shades first, then lighter and darker variants of
 * the first one's hue (groups of one condition keep its colour family, but never share a colour).
 */
export function distinctShades(shades: readonly string[], n: number): string[] {
  const out = [...new Set(shades)].slice(0, n);
  const [h, sat] = hexToHsl(shades[0] ?? (COLORBLIND[0] as string));
  const extra = Math.max(1, n - out.length);
  return fillDistinct(out, n, (k) =>
    hslToHex((h + 8 * (k % 3) - 8) % 360, Math.max(0.25, sat), 0.2 + (0.65 * (k + 0.5)) / (extra + 1)),
  );
}

/** Size of a single chart in pixels; the plotting config's figsize [10, 5] at 60 px per inch. */
export const DEFAULT_WIDTH = 600;
export const DEFAULT_HEIGHT = 300;

/** Shared look: font, palette, white background, no frame around the plot area. */
function baseConfig(): Record<string, unknown> {
  return {
    font: CHART_FONT,
    background: "white",
    view: { stroke: null },
    range: { category: COLORBLIND },
    axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: "#e5e5e5" },
    legend: { labelFontSize: 10, titleFontSize: 11, labelLimit: 360 },
    title: { fontSize: 14, anchor: "middle" },
    header: { labelFontSize: 11, titleFontSize: 12 },
  };
}

/** Wraps a spec body with the schema, title and shared config. */
function topLevel(title: string, body: Record<string, unknown>): VegaLiteSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    config: baseConfig(),
    ...body,
  } as unknown as VegaLiteSpec;
}

/** Field names with dots or brackets (e.g. `accuracy.std`) must be escaped for vega-lite. */
export function fieldRef(name: string): string {
  return name.replace(/([.[\]\\])/g, "\\$1");
}

/** Sorts class labels as numbers when they all are numbers, else as strings. */
export function sortLabels(labels: Iterable<string>): string[] {
  const unique = [...new Set(labels)];
  const numeric = unique.every((l) => l.trim() !== "" && Number.isFinite(Number(l)));
  return numeric ? unique.sort((a, b) => Number(a) - Number(b)) : unique.sort();
}

export interface LineChartOptions {
  /** One record per point; `x`, `y` and `color` name its fields. */
  data: ReadonlyArray<Record<string, unknown>>;
  x: string;
  y: string;
  /** Field whose values get one line each (e.g. the run name). */
  color?: string;
  title: string;
  xTitle?: string;
  yTitle?: string;
  colorTitle?: string;
  /** Field that splits lines without its own colour or legend entry (e.g. the run within a group). */
  detail?: string;
  /** Explicit order of the colour legend (and palette assignment). */
  colorOrder?: readonly string[];
  /** Explicit colours, one per entry of `colorOrder`. */
  colorRange?: readonly string[];
  /** x holds whole numbers (iterations): integer ticks only. */
  integerX?: boolean;
  /** Draw as a step function (held until the next point): pace curves. */
  step?: boolean;
  /** Mark each point (useful with few evaluations). */
  points?: boolean;
  /** Fixed y domain, e.g. [0, 1] for accuracy; default: fitted to the data without forcing zero. */
  yDomain?: [number, number];
  width?: number;
  height?: number;
}

/** Lines over x, one per `color` value: training curves (metric or loss per run), pace curves. */
export function lineChart(o: LineChartOptions): VegaLiteSpec {
  const encoding: Record<string, unknown> = {
    x: {
      field: fieldRef(o.x),
      type: "quantitative",
      title: o.xTitle ?? o.x,
      ...(o.integerX ? { axis: { tickMinStep: 1, format: "d" } } : {}),
    },
    y: {
      field: fieldRef(o.y),
      type: "quantitative",
      title: o.yTitle ?? o.y,
      scale: o.yDomain ? { domain: o.yDomain } : { zero: false },
    },
  };
  if (o.color) {
    encoding.color = {
      field: fieldRef(o.color),
      type: "nominal",
      title: o.colorTitle ?? o.color,
      ...(o.colorOrder ? { sort: [...o.colorOrder] } : {}),
      ...(o.colorOrder
        ? {
            scale: {
              domain: [...o.colorOrder],
              range: [...(o.colorRange ?? distinctColors(o.colorOrder.length))],
            },
          }
        : {}),
      legend: { orient: "bottom", direction: "vertical", columns: 1, labelLimit: 480 },
    };
  }
  if (o.detail) encoding.detail = { field: fieldRef(o.detail), type: "nominal" };
  return topLevel(o.title, {
    width: o.width ?? DEFAULT_WIDTH,
    height: o.height ?? DEFAULT_HEIGHT,
    data: { values: o.data.map((d) => ({ ...d })) },
    mark: {
      type: "line",
      interpolate: o.step ? "step-after" : "linear",
      point: o.points ? { size: 20 } : false,
      strokeWidth: 1.8,
    },
    encoding,
  });
}

export interface HeatmapOptions {
  /** Square or rectangular matrix, rows × columns; NaN cells are drawn grey without a label. */
  matrix: ReadonlyArray<ArrayLike<number>>;
  /** Row labels; also the column labels unless `columnLabels` is given. */
  labels: readonly string[];
  columnLabels?: readonly string[];
  title: string;
  /** d3-format string of the cell annotations; default ".2%" gives "83.12%", as in the correlation heatmaps. */
  format?: string;
  /** Colour domain; default [-1, 1] (correlations). */
  domain?: [number, number];
  /** vega colour scheme; default a diverging blue–orange. */
  scheme?: string;
  cellSize?: number;
  /** Write the value into each cell (default true). */
  annotate?: boolean;
  /** Axis titles (e.g. "true class", "predicted class"); default none. */
  xTitle?: string;
  yTitle?: string;
}

/** Annotated heatmap, e.g. the Spearman correlation matrix of scores, with no colour bar. */
export function heatmap(o: HeatmapOptions): VegaLiteSpec {
  const columns = o.columnLabels ?? o.labels;
  if (o.matrix.length !== o.labels.length) {
    throw new RangeError(`heatmap: ${o.matrix.length} rows but ${o.labels.length} labels`);
  }
  const values: Record<string, unknown>[] = [];
  o.matrix.forEach((row, i) => {
    if (row.length !== columns.length) {
      throw new RangeError(
        `heatmap: row ${i} has ${row.length} values but there are ${columns.length} columns`,
      );
    }
    for (let j = 0; j < row.length; j++) {
      const v = row[j] as number;
      values.push({ row: o.labels[i], col: columns[j], value: Number.isFinite(v) ? v : null });
    }
  });
  const domain = o.domain ?? [-1, 1];
  const span = domain[1] - domain[0];
  const mid = (domain[0] + domain[1]) / 2;
  const cell = o.cellSize ?? Math.max(44, Math.min(80, 480 / Math.max(1, columns.length)));
  const x = {
    field: "col",
    type: "nominal",
    sort: [...columns],
    title: o.xTitle ?? null,
    axis: { labelAngle: -25, labelAlign: "right", labelLimit: 0, grid: false },
  };
  const y = {
    field: "row",
    type: "nominal",
    sort: [...o.labels],
    title: o.yTitle ?? null,
    axis: { labelLimit: 0, grid: false },
  };
  const text = {
    mark: { type: "text", fontSize: Math.min(13, Math.max(8, cell / 5)) },
    encoding: {
      text: { field: "value", type: "quantitative", format: o.format ?? ".2%" },
      color: {
        condition: {
          test: `datum.value !== null && abs(datum.value - ${mid}) > ${0.3 * span}`,
          value: "white",
        },
        value: "black",
      },
    },
  };
  return topLevel(o.title, {
    width: cell * columns.length,
    height: cell * o.labels.length,
    data: { values },
    encoding: { x, y },
    layer: [
      {
        mark: { type: "rect", stroke: "white", strokeWidth: 1 },
        encoding: {
          color: {
            condition: { test: "datum.value === null", value: "#dddddd" },
            field: "value",
            type: "quantitative",
            scale: { domain, scheme: o.scheme ?? "blueorange" },
            legend: null,
          },
        },
      },
      ...(o.annotate === false ? [] : [text]),
    ],
  });
}

export interface HistogramOptions {
  values: ArrayLike<number>;
  /** Number of equal-width bins (default 20, as the reference's score histogram). */
  bins?: number;
  /** Range the bins cover; default the data's extent. */
  domain?: [number, number];
  title: string;
  xTitle?: string;
  yTitle?: string;
  width?: number;
  height?: number;
}

/** Pre-binned histogram (counts computed by `binCounts`). */
export function histogram(o: HistogramOptions): VegaLiteSpec {
  const edges = binEdges(o.values, o.bins ?? 20, o.domain);
  const counts = binCounts(o.values, edges);
  const values = counts.map((count, i) => ({ start: edges[i], end: edges[i + 1], count }));
  return topLevel(o.title, {
    width: o.width ?? DEFAULT_WIDTH,
    height: o.height ?? DEFAULT_HEIGHT,
    data: { values },
    mark: { type: "bar", color: COLORBLIND[0], stroke: "white", strokeWidth: 0.5 },
    encoding: {
      x: { field: "start", type: "quantitative", bin: { binned: true }, title: o.xTitle ?? "value" },
      x2: { field: "end" },
      y: { field: "count", type: "quantitative", title: o.yTitle ?? "count" },
    },
  });
}

export interface FacetHistogramOptions {
  values: ArrayLike<number>;
  /** Group (class) of each value, same length as `values`. */
  groups: ReadonlyArray<string>;
  /** Number of bins, or explicit edges (the reference uses 0, 0.05, …, 1 for ranks). */
  bins?: number | readonly number[];
  domain?: [number, number];
  /** "count" per bin, or "percent" of the group's samples (titles then carry the group size). */
  stat: "count" | "percent";
  title: string;
  xTitle?: string;
  /** Facets per row (reference: col_wrap 5). */
  columns?: number;
  width?: number;
  height?: number;
}

/** Rows of a per-group histogram: one row per (group, bin). Exported for tests and tables. */
export function groupedBins(
  values: ArrayLike<number>,
  groups: ReadonlyArray<string>,
  edges: readonly number[],
  stat: "count" | "percent",
): { group: string; label: string; start: number; end: number; value: number }[] {
  if (values.length !== groups.length) {
    throw new RangeError(`${values.length} values but ${groups.length} group labels`);
  }
  const byGroup = new Map<string, number[]>();
  for (let i = 0; i < values.length; i++) {
    const g = groups[i] as string;
    let list = byGroup.get(g);
    if (!list) {
      list = [];
      byGroup.set(g, list);
    }
    list.push(values[i] as number);
  }
  const rows: { group: string; label: string; start: number; end: number; value: number }[] = [];
  for (const group of sortLabels(byGroup.keys())) {
    const list = byGroup.get(group) as number[];
    const counts = binCounts(list, edges);
    const label = stat === "percent" ? `${group} (${list.length} samples)` : group;
    counts.forEach((count, i) => {
      rows.push({
        group,
        label,
        start: edges[i] as number,
        end: edges[i + 1] as number,
        value: stat === "percent" ? (100 * count) / list.length : count,
      });
    });
  }
  return rows;
}

/** Small multiples: one histogram per group (class), count or percent (the per-class score plots). */
export function facetHistogram(o: FacetHistogramOptions): VegaLiteSpec {
  const edges = Array.isArray(o.bins)
    ? [...(o.bins as readonly number[])]
    : binEdges(o.values, (o.bins as number | undefined) ?? 20, o.domain);
  const rows = groupedBins(o.values, o.groups, edges, o.stat);
  const order = [...new Set(rows.map((r) => r.label))];
  return topLevel(o.title, {
    data: { values: rows },
    columns: o.columns ?? 5,
    facet: { field: "label", type: "nominal", sort: order, title: null, header: { labelFontSize: 11 } },
    spec: {
      width: o.width ?? 150,
      height: o.height ?? 100,
      mark: { type: "bar", color: COLORBLIND[0], stroke: "white", strokeWidth: 0.3 },
      encoding: {
        x: { field: "start", type: "quantitative", bin: { binned: true }, title: o.xTitle ?? "ranks" },
        x2: { field: "end" },
        y: { field: "value", type: "quantitative", title: o.stat === "percent" ? "ratio [%]" : "count" },
      },
    },
  });
}

export interface RidgePlotOptions {
  values: ArrayLike<number>;
  groups: ReadonlyArray<string>;
  title: string;
  xTitle?: string;
  /** Range of the density grid; default the data's extent. */
  domain?: [number, number];
  /** Bandwidth multiplier (reference: bw_adjust 0.5). */
  bwAdjust?: number;
  gridPoints?: number;
  width?: number;
  rowHeight?: number;
}

/** One filled density curve per group (class), stacked as rows: a ridge plot (the per-class score plots). */
export function ridgePlot(o: RidgePlotOptions): VegaLiteSpec {
  if (o.values.length !== o.groups.length) {
    throw new RangeError(`ridgePlot: ${o.values.length} values but ${o.groups.length} group labels`);
  }
  const [lo, hi] = o.domain ?? extent(o.values);
  const grid = linspace(lo, hi > lo ? hi : lo + 1, o.gridPoints ?? 100);
  const byGroup = new Map<string, number[]>();
  for (let i = 0; i < o.values.length; i++) {
    const g = o.groups[i] as string;
    const list = byGroup.get(g) ?? [];
    list.push(o.values[i] as number);
    byGroup.set(g, list);
  }
  const order = sortLabels(byGroup.keys());
  const values: { group: string; x: number; density: number }[] = [];
  for (const group of order) {
    const density = gaussianKde(byGroup.get(group) as number[], grid, o.bwAdjust ?? 0.5);
    grid.forEach((x, i) => {
      values.push({ group, x, density: density[i] as number });
    });
  }
  return topLevel(o.title, {
    data: { values },
    spacing: 0,
    facet: {
      row: {
        field: "group",
        type: "nominal",
        sort: order,
        title: null,
        header: { labelAngle: 0, labelAlign: "left", labelFontSize: 11 },
      },
    },
    spec: {
      width: o.width ?? 500,
      height: o.rowHeight ?? 36,
      layer: [
        {
          mark: { type: "area", interpolate: "monotone", opacity: 0.75, stroke: "white", strokeWidth: 1 },
          encoding: {
            color: {
              field: "group",
              type: "nominal",
              sort: order,
              scale: { domain: order, range: distinctColors(order.length) },
              legend: null,
            },
          },
        },
      ],
      encoding: {
        x: {
          field: "x",
          type: "quantitative",
          title: o.xTitle ?? "ranks",
          scale: { domain: [grid[0], grid.at(-1)] },
        },
        y: { field: "density", type: "quantitative", title: null, axis: null },
      },
    },
    config: { ...baseConfig(), axis: { labelFontSize: 11, titleFontSize: 12, grid: false } },
  });
}

export interface BarChartOptions {
  /** Raw observations (e.g. one per seed); bars show their mean, error bars ± sample std. */
  data: ReadonlyArray<{ x: string; value: number; color?: string }>;
  title: string;
  xTitle?: string;
  yTitle?: string;
  colorTitle?: string;
  yDomain?: [number, number];
  /** Angle of the x labels (default 0; use e.g. -20 for long labels). */
  labelAngle?: number;
  /** Bar colour per x value (when bars are not split by `color`). */
  xColors?: Readonly<Record<string, string>>;
  width?: number;
  height?: number;
}

/** Rows of a bar chart: mean ± sample std per (x, color). Exported for tests and tables. */
export function barRows(
  data: ReadonlyArray<{ x: string; value: number; color?: string }>,
): { x: string; color: string; mean: number; std: number; lo: number; hi: number; n: number }[] {
  const groups = new Map<string, { x: string; color: string; values: number[] }>();
  for (const d of data) {
    const color = d.color ?? "";
    const key = JSON.stringify([d.x, color]);
    let group = groups.get(key);
    if (!group) {
      group = { x: d.x, color, values: [] };
      groups.set(key, group);
    }
    group.values.push(d.value);
  }
  return [...groups.values()].map(({ x, color, values }) => {
    const { mean, std, n } = meanStd(values);
    return { x, color, mean, std, lo: mean - std, hi: mean + std, n };
  });
}

/** Bars of mean ± std (sample std, as autrainer's aggregated bar plots), grouped by `color` if given. */
export function barChart(o: BarChartOptions): VegaLiteSpec {
  const rows = barRows(o.data);
  const hasColor = o.data.some((d) => d.color !== undefined);
  const xOrder = [...new Set(rows.map((r) => r.x))];
  const encoding: Record<string, unknown> = {
    x: {
      field: "x",
      type: "nominal",
      sort: xOrder,
      title: o.xTitle ?? null,
      axis: {
        labelAngle: o.labelAngle ?? 0,
        // No truncation: labels of the form "Curriculum · CELoss · Linear" break at each " · ".
        labelLimit: 0,
        labelExpr: `split(datum.label, ' · ')`,
        ...(o.labelAngle ? { labelAlign: "right" } : {}),
      },
    },
  };
  if (hasColor) encoding.xOffset = { field: "color", type: "nominal" };
  const y = {
    field: "mean",
    type: "quantitative",
    title: o.yTitle ?? "mean",
    scale: o.yDomain ? { domain: o.yDomain } : { zero: true },
  };
  // Wide enough for the longest line of any label.
  const longest = Math.max(0, ...xOrder.flatMap((x) => x.split(" · ").map((part) => part.length)));
  const perBar = Math.max(hasColor ? 110 : 70, 7 * longest + 12);
  return topLevel(o.title, {
    width: o.width ?? Math.max(240, xOrder.length * perBar),
    height: o.height ?? DEFAULT_HEIGHT,
    data: { values: rows },
    encoding,
    layer: [
      {
        mark: { type: "bar", color: COLORBLIND[0] },
        encoding: {
          y,
          ...(hasColor ? { color: { field: "color", type: "nominal", title: o.colorTitle ?? null } } : {}),
          ...(!hasColor && o.xColors
            ? {
                color: {
                  field: "x",
                  type: "nominal",
                  scale: { domain: xOrder, range: xOrder.map((x) => o.xColors?.[x] ?? COLORBLIND[0]) },
                  legend: null,
                },
              }
            : {}),
        },
      },
      {
        mark: { type: "rule", color: "black", strokeWidth: 1.5 },
        encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
      },
    ],
  });
}
