import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type PacePoint, paceSummarySpec } from "../curriculum/pace-plot.js";
import { renderPlot } from "../plots/render.js";
import { readCsv, writeCsv } from "../util/csv.js";
import { DataError } from "../util/errors.js";
import { readYaml } from "../util/yaml-io.js";

export interface PaceSummaryOptions {
  /** Plot only the best `maxRuns` runs (by best dev tracking metric); default: all. */
  maxRuns?: number;
}

export interface PaceSummary {
  /** Run names with a pace.csv, in column order (best run first when metrics are known). */
  runs: string[];
  csv: string;
  plot: { svg: string; png: string };
}

/** Reads one run's pace.csv. */
export function readPace(path: string): PacePoint[] {
  const { columns, rows } = readCsv(path);
  for (const column of ["iteration", "dataset_size"]) {
    if (!columns.includes(column)) throw new DataError(`${path}: missing column "${column}"`);
  }
  return rows.map((row, r) => {
    const iteration = Number(row.iteration);
    const size = Number(row.dataset_size);
    if (!Number.isInteger(iteration) || !Number.isInteger(size)) {
      throw new DataError(`${path}: row ${r + 2}: expected integer iteration and dataset_size`);
    }
    return { iteration, dataset_size: size };
  });
}

/**
 * Outer join of pace curves on `iteration`: one row per iteration any run recorded, one column per
 * run, empty where a run has no row (as the reference's outer concat).
 */
export function joinPaces(series: ReadonlyArray<{ run: string; points: readonly PacePoint[] }>): {
  columns: string[];
  rows: Array<Record<string, number | string>>;
} {
  const iterations = [...new Set(series.flatMap((s) => s.points.map((p) => p.iteration)))].sort(
    (a, b) => a - b,
  );
  const lookup = series.map((s) => new Map(s.points.map((p) => [p.iteration, p.dataset_size])));
  const rows = iterations.map((iteration) => {
    const row: Record<string, number | string> = { iteration };
    series.forEach((s, k) => {
      row[s.run] = lookup[k]?.get(iteration) ?? "";
    });
    return row;
  });
  return { columns: ["iteration", ...series.map((s) => s.run)], rows };
}

interface RunInfo {
  best: number | null;
  trainingType: string | null;
}

/** Best dev value of the run's tracking metric (all tracking metrics are maximised) and its training type. */
function runInfo(runDir: string): RunInfo {
  let trainingType: string | null = null;
  let metric = "accuracy";
  try {
    const config = readYaml<{ training_type?: string; dataset?: { tracking_metric?: string } }>(
      join(runDir, "config.yaml"),
    );
    trainingType = config?.training_type ?? null;
    metric = config?.dataset?.tracking_metric ?? metric;
  } catch {
    // no config: order by name, label the axis generically
  }
  let best: number | null = null;
  try {
    const dev = readYaml<Record<string, { all?: number }>>(join(runDir, "_best", "dev.yaml"));
    const value = dev?.[metric]?.all;
    if (typeof value === "number" && Number.isFinite(value)) best = value;
  } catch {
    // unfinished run: sorted last
  }
  return { best, trainingType };
}

/**
 * Writes `summary/pace.csv` (iteration + one column per curriculum run) and
 * `summary/plots/curriculum_plots/pace.{svg,png}` for every training run of the experiment that has
 * a `pace.csv`. Runs are ordered by their best dev tracking metric (best first; runs without one
 * last, by name). Returns null when no run has a pace (nothing is written).
 */
export async function summarizePace(
  resultsDir: string,
  experimentId: string,
  options: PaceSummaryOptions = {},
): Promise<PaceSummary | null> {
  const trainingDir = join(resultsDir, experimentId, "training");
  if (!existsSync(trainingDir)) return null;
  const names = readdirSync(trainingDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(trainingDir, e.name, "pace.csv")))
    .map((e) => e.name)
    .sort();
  if (names.length === 0) return null;
  const runs = names.map((run) => ({
    run,
    points: readPace(join(trainingDir, run, "pace.csv")),
    ...runInfo(join(trainingDir, run)),
  }));
  runs.sort((a, b) => {
    if (a.best !== null && b.best !== null && a.best !== b.best) return b.best - a.best;
    if ((a.best === null) !== (b.best === null)) return a.best === null ? 1 : -1;
    return a.run < b.run ? -1 : a.run > b.run ? 1 : 0;
  });
  const summaryDir = join(resultsDir, experimentId, "summary");
  const { columns, rows } = joinPaces(runs);
  const csv = join(summaryDir, "pace.csv");
  writeCsv(csv, columns, rows);
  const types = new Set(runs.map((r) => r.trainingType).filter((t): t is string => t !== null));
  const xTitle = types.size === 1 ? ([...types][0] as string) : "iteration";
  const shown = options.maxRuns !== undefined ? runs.slice(0, Math.max(1, options.maxRuns)) : runs;
  const plot = await renderPlot(
    paceSummarySpec(shown, xTitle),
    join(summaryDir, "plots", "curriculum_plots", "pace"),
  );
  return { runs: runs.map((r) => r.run), csv, plot };
}
