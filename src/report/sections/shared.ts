import { isLoss, type RunConfig, upgradeSavedConfig } from "../../config/schema.js";
import type { Dataset } from "../../data/types.js";
import { type LineChartOptions, lineChart } from "../../plots/charts.js";
import { escapeHtml } from "../../plots/html.js";
import type { VegaLiteSpec } from "../../plots/render.js";
import { meanStd } from "../../plots/stats.js";
import type { RunData, RunGroup } from "../collect.js";
import type { DatasetLoader } from "../context.js";

/** Helpers several report sections share. */

/** "0.9123 ± 0.0100" (4 decimals); a single value has no ± part. */
export function formatMeanStd(values: readonly number[]): string {
  const { mean, std, n } = meanStd(values);
  if (n === 0 || !Number.isFinite(mean)) return "–";
  return n > 1 ? `${mean.toFixed(4)} ± ${std.toFixed(4)}` : mean.toFixed(4);
}

/** Test metric names in display order: the tracking metric, the other metrics, then the loss. */
export function orderMetrics(names: Iterable<string>, tracking: string): string[] {
  const unique = [...new Set(names)];
  const losses = unique.filter(isLoss);
  const others = unique.filter((m) => !isLoss(m) && m !== tracking);
  return [...(unique.includes(tracking) ? [tracking] : []), ...others, ...losses];
}

export function conditionBadge(condition: string): string {
  return `<span class="cond ${escapeHtml(condition)}">${escapeHtml(condition)}</span>`;
}

export function trackingMetricOf(runs: readonly RunData[]): string {
  return runs.find((r) => r.config)?.trackingMetric ?? "accuracy";
}

export function cachedDataset(
  config: RunConfig,
  loader: DatasetLoader,
  cache: Map<string, Promise<Dataset>>,
): Promise<Dataset> {
  // A run saved before datasets had split_seed was split with its data seed.
  const dataset = (upgradeSavedConfig(config) as RunConfig).dataset;
  const key = JSON.stringify(dataset);
  let pending = cache.get(key);
  if (!pending) {
    pending = loader(dataset);
    cache.set(key, pending);
  }
  return pending;
}

/** The points of every group's curves: `column` of each metrics.csv row against `x`, one curve per run. */
export function groupCurves(
  groups: readonly RunGroup[],
  column: string,
  x = "iteration",
): Record<string, unknown>[] {
  return groups.flatMap((group) =>
    group.runs.flatMap((run) =>
      (run.metrics?.rows ?? [])
        .filter((row) => Number.isFinite(row[column]) && Number.isFinite(row[x]))
        .map((row) => ({ [x]: row[x], value: row[column], group: group.label, run: run.name })),
    ),
  );
}

/** A line chart's colours for one line per run (`run`), coloured by its group (`group`) in order. */
export function groupLines(
  groups: readonly RunGroup[],
  colorTitle = "condition",
): Pick<LineChartOptions, "color" | "detail" | "colorOrder" | "colorRange" | "colorTitle"> {
  return {
    color: "group",
    detail: "run",
    colorOrder: groups.map((g) => g.label),
    colorRange: groups.map((g) => g.color),
    colorTitle,
  };
}

/** The training type of a group's runs (`epoch` or `step`): what its iterations count. */
export function trainingTypeOf(group: RunGroup): string {
  return group.runs[0]?.trainingType ?? "epoch";
}

/**
 * Groups split by training type: epoch and step runs never share an x axis (an epoch and a step
 * are different amounts of training). One entry per type present, epochs first.
 */
export function byTrainingType(groups: readonly RunGroup[]): { type: string; groups: RunGroup[] }[] {
  const types = [...new Set(groups.map(trainingTypeOf))].sort();
  return types.map((type) => ({ type, groups: groups.filter((g) => trainingTypeOf(g) === type) }));
}

export function metricChart(
  groups: RunGroup[],
  column: string,
  title: string,
  width: number,
  trainingType: string,
): VegaLiteSpec | null {
  const data = groupCurves(groups, column);
  if (data.length === 0) return null;
  const iterations = new Set(data.map((d) => d.iteration)).size;
  return lineChart({
    data,
    x: "iteration",
    y: "value",
    ...groupLines(groups),
    integerX: true,
    title,
    xTitle: trainingType,
    yTitle: column,
    points: iterations <= 30,
    width,
    height: 260,
  });
}

/** " (step runs)" when the experiment mixes training types, else "". */
export function typeSuffix(type: string, split: boolean): string {
  return split ? ` (${type} runs)` : "";
}

export const fmt = (v: unknown, digits = 3) =>
  typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–";

/** One line for a card's `robustness` entry: ρ = 0.873 [0.869, 0.877], τ = 0.712 (3 runs). */
export function formatRobustness(value: unknown): string {
  const r = value as Record<string, unknown> | null;
  if (!r || typeof r !== "object") return String(value);
  const ci = Array.isArray(r.spearman_ci95) ? r.spearman_ci95 : [];
  return (
    `Spearman ${fmt(r.spearman_mean)} [95% CI ${fmt(ci[0])}, ${fmt(ci[1])}], Kendall ${fmt(r.kendall_mean)} ` +
    `(mean over ${r.pairs} pair(s) of ${r.runs} runs)`
  );
}
