import { existsSync } from "node:fs";
import { join } from "node:path";
import { RUN_FILES, SUMMARY_FILES, summaryDir, trainingDir } from "../config/layout.js";
import { paceSummarySpec } from "../curriculum/pace-plot.js";
import { renderPlot } from "../plots/render.js";
import { listRuns } from "../results/experiment.js";
import type { PacePoint } from "../results/run-folder.js";
import { metricValues, type RunFolderContents, readPace, readRunFolder } from "../results/run-folder.js";
import { writeCsv } from "../util/csv.js";

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
function runInfo(run: RunFolderContents): RunInfo {
  const config = run.config ?? {};
  const dataset = (config.dataset ?? {}) as { tracking_metric?: unknown };
  const metric = typeof dataset.tracking_metric === "string" ? dataset.tracking_metric : "accuracy";
  const value = metricValues(run.bestDev)[metric];
  return {
    best: value !== undefined && Number.isFinite(value) ? value : null,
    trainingType: typeof config.training_type === "string" ? config.training_type : null,
  };
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
  const dir = trainingDir(resultsDir, experimentId);
  const names = listRuns(resultsDir, experimentId).filter((name) =>
    existsSync(join(dir, name, RUN_FILES.pace)),
  );
  if (names.length === 0) return null;
  const runs = names.map((run) => {
    const folder = readRunFolder(join(dir, run));
    return { run, points: readPace(join(dir, run, RUN_FILES.pace)), ...runInfo(folder) };
  });
  runs.sort((a, b) => {
    if (a.best !== null && b.best !== null && a.best !== b.best) return b.best - a.best;
    if ((a.best === null) !== (b.best === null)) return a.best === null ? 1 : -1;
    return a.run < b.run ? -1 : a.run > b.run ? 1 : 0;
  });
  const outDir = summaryDir(resultsDir, experimentId);
  const { columns, rows } = joinPaces(runs);
  const csv = join(outDir, SUMMARY_FILES.pace);
  writeCsv(csv, columns, rows);
  const types = new Set(runs.map((r) => r.trainingType).filter((t): t is string => t !== null));
  const xTitle = types.size === 1 ? ([...types][0] as string) : "iteration";
  const shown = options.maxRuns !== undefined ? runs.slice(0, Math.max(1, options.maxRuns)) : runs;
  const plot = await renderPlot(
    paceSummarySpec(shown, xTitle),
    join(outDir, SUMMARY_FILES.curriculumPlots, "pace"),
  );
  return { runs: runs.map((r) => r.run), csv, plot };
}
