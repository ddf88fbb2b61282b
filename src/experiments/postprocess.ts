import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { diffConfigs } from "../config/diff.js";
import {
  aggregationDirName,
  experimentDir,
  RUN_FILES,
  SUMMARY_FILES,
  summaryDir,
  trainingDir,
} from "../config/layout.js";
import { aggregatedName, validateAggregation } from "../config/naming.js";
import { isLoss, upgradeSavedConfig } from "../config/schema.js";
import { renderPlot, type VegaLiteSpec } from "../plots/render.js";
import { listRuns } from "../results/experiment.js";
import { readRunFolder } from "../results/run-folder.js";
import { removeStaleTemporaries, writeDirAtomic } from "../util/atomic.js";
import { writeCsv } from "../util/csv.js";
import { CurriculaError, DataError } from "../util/errors.js";
import { writeLine } from "../util/progress.js";
import { meanStd } from "../util/stats.js";
import { writeYaml } from "../util/yaml-io.js";
import { writeDifficultyEvaluation } from "./by-difficulty.js";
import { type ComparisonOptions, checkReference, compareRuns, writeComparison } from "./comparison.js";
import { summarizePace } from "./pace-summary.js";

/**
 * Postprocessing of an experiment (autrainer's SummarizeGrid and AggregateGrid, aucurriculum's
 * nested-key aggregation): a summary of every finished run and, per `-a` key list, aggregated runs
 * (mean and sample std over the runs that differ only in those keys) that scoring ensembles and
 * reports can name with `#` fields.
 */

/** A plot renderer (the chart kit's renderPlot): writes `<basePath>.svg` and `.png`. */
export type PlotRenderer = (spec: Record<string, unknown>, basePath: string) => Promise<unknown>;

export interface PostprocessOptions {
  /** Aggregations: each a list of naming keys (`[["seed"], ["curriculum.pacing.initial_size"]]`). */
  aggregate?: string[][];
  /** Plot only the best N runs' curves (by the tracking metric). */
  maxRuns?: number;
  /** Plot renderer; default the chart kit's renderPlot. Null skips plots. */
  renderPlot?: PlotRenderer | null;
  /** Progress lines; default stderr. */
  log?: ((line: string) => void) | null;
  /** Score ids for the difficulty-aware evaluation (`summary/difficulty.csv`); none by default. */
  difficulty?: string[];
  /**
   * Paired comparisons over seeds (summary/comparison.csv, summary/compute.csv): the naming keys
   * that make a condition (default the curriculum's) and the reference condition (default the baseline).
   */
  compare?: ComparisonOptions;
}

export interface PostprocessResult {
  runs: string[];
  unfinished: string[];
  summaryDir: string;
  aggregations: { keys: string[]; dir: string; runs: Record<string, string[]> }[];
  plots: string[];
}

type Row = Record<string, number>;

/** What postprocess reads from one (finished or aggregated) run folder. */
export interface RunRecord {
  name: string;
  dir: string;
  config: Record<string, unknown>;
  columns: string[];
  rows: Row[];
  bestIteration: number;
  best: Record<string, unknown>;
  test: Record<string, unknown>;
  timer: Record<string, unknown>;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Reads a finished run folder (metrics.csv, config.yaml, _best/dev.yaml, _test/test_holistic.yaml, timer.yaml). */
export function readRunRecord(dir: string, name: string): RunRecord {
  const run = readRunFolder(dir);
  if (run.problems.length > 0) throw new DataError(run.problems.join("; "));
  if (!run.metrics)
    throw new DataError(`${join(dir, RUN_FILES.metrics)}: not found (the run has not finished)`);
  if (!run.config) throw new DataError(`${join(dir, RUN_FILES.config)}: not found`);
  const best = run.bestDev ?? {};
  const bestIteration = typeof best.iteration === "number" ? best.iteration : Number.NaN;
  return {
    name,
    dir,
    config: run.config,
    columns: run.metrics.columns,
    rows: run.metrics.rows,
    bestIteration,
    best,
    test: run.test ?? {},
    timer: run.timer ?? {},
  };
}

function metricColumns(record: RunRecord): string[] {
  return record.columns.filter((c) => c !== "iteration");
}

function trackingMetric(record: RunRecord): string {
  const dataset = asRecord(record.config.dataset);
  return typeof dataset.tracking_metric === "string"
    ? dataset.tracking_metric
    : (metricColumns(record)[0] ?? "accuracy");
}

function flatten(value: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = Array.isArray(value) ? JSON.stringify(value) : value;
  }
  return out;
}

/** The metrics row at the best iteration (or the row the tracking metric likes best). */
function bestRow(record: RunRecord): Row | undefined {
  const exact = record.rows.find((r) => r.iteration === record.bestIteration);
  if (exact) return exact;
  const metric = trackingMetric(record);
  let best: Row | undefined;
  for (const row of record.rows) {
    const v = row[metric] as number;
    if (best === undefined || (isLoss(metric) ? v < (best[metric] as number) : v > (best[metric] as number)))
      best = row;
  }
  return best;
}

function allValue(entry: unknown): number {
  const rec = asRecord(entry);
  return typeof rec.all === "number" ? rec.all : typeof entry === "number" ? entry : Number.NaN;
}

/**
 * Writes `metrics.csv` (best-iteration dev metrics, best_iteration, test_ metrics per run),
 * `config.csv` (flattened config and mean phase times) and `best_runs.yaml` into `outDir`.
 */
export function writeSummaryTables(records: readonly RunRecord[], outDir: string): void {
  const metricCols: string[] = [];
  const testCols: string[] = [];
  const metricRows = records.map((record) => {
    const row: Record<string, unknown> = { run_name: record.name };
    const at = bestRow(record);
    for (const c of metricColumns(record)) {
      if (!metricCols.includes(c)) metricCols.push(c);
      row[c] = at?.[c] ?? Number.NaN;
    }
    row.best_iteration = Number.isNaN(record.bestIteration) ? at?.iteration : record.bestIteration;
    for (const [k, v] of Object.entries(record.test)) {
      const col = `test_${k}`;
      if (!testCols.includes(col)) testCols.push(col);
      row[col] = allValue(v);
    }
    return row;
  });
  const columns = ["run_name", ...metricCols, "best_iteration", ...testCols];
  writeCsv(join(outDir, SUMMARY_FILES.metrics), columns, metricRows);

  const configCols: string[] = [];
  const configRows = records.map((record) => {
    const flat = flatten(record.config);
    for (const k of Object.keys(flat)) if (!configCols.includes(k)) configCols.push(k);
    const row: Record<string, unknown> = { run_name: record.name, ...flat };
    for (const phase of ["train", "dev", "test"]) {
      row[`time_${phase}_mean`] = asRecord(record.timer[phase]).mean_seconds ?? Number.NaN;
    }
    return row;
  });
  writeCsv(
    join(outDir, SUMMARY_FILES.config),
    ["run_name", ...configCols, "time_train_mean", "time_dev_mean", "time_test_mean"],
    configRows,
  );

  const bestRuns: Record<string, { run_name: string; value: number }> = {};
  for (const col of [...metricCols, ...testCols]) {
    let pick: { run_name: string; value: number } | undefined;
    for (const row of metricRows) {
      const v = row[col] as number;
      if (typeof v !== "number" || Number.isNaN(v)) continue;
      if (!pick || (isLoss(col) ? v < pick.value : v > pick.value))
        pick = { run_name: String(row.run_name), value: v };
    }
    if (pick) bestRuns[col] = pick;
  }
  writeYaml(join(outDir, SUMMARY_FILES.bestRuns), bestRuns);
}

/** Vega-lite spec of one metric's training curves (one line per run). */
export function trainingCurveSpec(
  records: readonly RunRecord[],
  metric: string,
  xTitle: string,
): Record<string, unknown> {
  const values = records.flatMap((record) =>
    record.rows
      .filter((row) => !Number.isNaN(row[metric] as number))
      .map((row) => ({ run: record.name, iteration: row.iteration, value: row[metric] })),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: metric,
    width: 640,
    height: 320,
    data: { values },
    mark: { type: "line", point: values.length <= 200 },
    encoding: {
      x: { field: "iteration", type: "quantitative", title: xTitle, axis: { tickMinStep: 1 } },
      y: { field: "value", type: "quantitative", title: metric, scale: { zero: false } },
      color: {
        field: "run",
        type: "nominal",
        title: "run",
        legend: { orient: "bottom", columns: 1, labelLimit: 0 },
      },
    },
  };
}

async function writePlots(
  records: readonly RunRecord[],
  outDir: string,
  options: PostprocessOptions,
  render: PlotRenderer | null,
): Promise<string[]> {
  if (!render || records.length === 0) return [];
  let shown = [...records];
  if (options.maxRuns !== undefined && options.maxRuns > 0 && shown.length > options.maxRuns) {
    const score = (r: RunRecord) => {
      const v = (bestRow(r)?.[trackingMetric(r)] as number) ?? Number.NaN;
      return isLoss(trackingMetric(r)) ? -v : v;
    };
    shown = shown.sort((a, b) => score(b) - score(a)).slice(0, options.maxRuns);
  }
  const types = new Set(records.map((r) => String(r.config.training_type ?? "epoch")));
  const xTitle = types.size === 1 ? ([...types][0] as string) : "iteration";
  // samples_seen is an amount of training, not a metric: no curve of its own
  const metrics = [...new Set(records.flatMap(metricColumns))].filter((m) => m !== "samples_seen");
  const written: string[] = [];
  for (const metric of metrics) {
    const base = join(outDir, "plots", "training_plots", metric);
    await render(trainingCurveSpec(shown, metric, xTitle), base);
    written.push(`${base}.svg`, `${base}.png`);
  }
  return written;
}

// ---------------------------------------------------------------------------------------------
// Aggregation

/** Per-iteration mean and `<col>.std` over runs (rows matched by iteration), then `iteration`. */
export function aggregateMetricRows(records: readonly RunRecord[]): { columns: string[]; rows: Row[] } {
  const cols = metricColumns(records[0] as RunRecord);
  const iterations = [...new Set(records.flatMap((r) => r.rows.map((row) => row.iteration as number)))].sort(
    (a, b) => a - b,
  );
  const rows = iterations.map((iteration) => {
    const out: Row = {};
    const members = records.map((r) => r.rows.find((row) => row.iteration === iteration));
    for (const c of cols) {
      const { mean, std } = meanStd(members.map((m) => (m ? (m[c] as number) : Number.NaN)));
      out[c] = mean;
      out[`${c}.std`] = std;
    }
    out.iteration = iteration;
    return out;
  });
  return { columns: [...cols, ...cols.map((c) => `${c}.std`), "iteration"], rows };
}

/** Mean and `<stratum>.std` of `{metric: {all: v}}` YAMLs (plain numbers are averaged). */
export function aggregateResults(results: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = [...new Set(results.flatMap((r) => Object.keys(r)))];
  for (const key of keys) {
    const entries = results.map((r) => r[key]);
    if (entries.every((e) => typeof e === "number")) {
      out[key] = meanStd(entries as number[]).mean;
      continue;
    }
    const strata = [...new Set(entries.flatMap((e) => Object.keys(asRecord(e))))].filter(
      (s) => !s.endsWith(".std"),
    );
    const agg: Record<string, number> = {};
    for (const stratum of strata) {
      const { mean, std } = meanStd(
        entries.map((e) => {
          const v = asRecord(e)[stratum];
          return typeof v === "number" ? v : Number.NaN;
        }),
      );
      agg[stratum] = mean;
      agg[`${stratum}.std`] = std;
    }
    out[key] = agg;
  }
  return out;
}

/** The first config with every value that differs between the runs replaced by `#`. */
export function aggregateConfigs(configs: readonly unknown[]): unknown {
  const [first, ...rest] = configs;
  const merge = (a: unknown, others: unknown[]): unknown => {
    if (a && typeof a === "object" && !Array.isArray(a)) {
      if (others.some((o) => !o || typeof o !== "object" || Array.isArray(o))) return "#";
      const keys = [...new Set([a, ...others].flatMap((o) => Object.keys(o as object)))];
      return Object.fromEntries(
        keys.map((k) => {
          const here = (a as Record<string, unknown>)[k];
          const there = others.map((o) => (o as Record<string, unknown>)[k]);
          if (here === undefined || there.some((t) => t === undefined)) return [k, "#"];
          return [k, merge(here, there)];
        }),
      );
    }
    return others.every((o) => JSON.stringify(o) === JSON.stringify(a)) ? a : "#";
  };
  return merge(first, rest);
}

function averageTimers(timers: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const phase of [...new Set(timers.flatMap((t) => Object.keys(t)))]) {
    const blocks = timers.map((t) => asRecord(t[phase]));
    const mean = meanStd(
      blocks.map((b) => (typeof b.mean_seconds === "number" ? b.mean_seconds : Number.NaN)),
    ).mean;
    const total = meanStd(
      blocks.map((b) => (typeof b.total_seconds === "number" ? b.total_seconds : Number.NaN)),
    ).mean;
    out[phase] = {
      mean: prettyTime(mean),
      mean_seconds: round4(mean),
      total: prettyTime(total),
      total_seconds: round4(total),
    };
  }
  return out;
}

function round4(v: number): number {
  return Number.isNaN(v) ? v : Math.round(v * 1e4) / 1e4;
}

function prettyTime(seconds: number): string {
  if (Number.isNaN(seconds)) return "";
  const s = Math.floor(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** Groups run names by their aggregated name (`#` in the aggregated fields). */
export function groupRuns(names: readonly string[], keys: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const name of [...names].sort()) {
    const agg = aggregatedName(name, keys);
    const members = groups.get(agg) ?? [];
    members.push(name);
    groups.set(agg, members);
  }
  return groups;
}

/**
 * Aggregated runs must describe the same samples: unless `dataset` itself is aggregated, the runs
 * of a group must have been trained on the same data (equal dataset configs, split_seed included;
 * a run saved before split_seed existed was split with its data seed). A mismatch is an error
 * naming the runs and the differing keys, before anything is written.
 */
export function checkSameData(records: readonly RunRecord[], keys: readonly string[]): void {
  if (keys.includes("dataset")) return;
  const byName = new Map(records.map((r) => [r.name, r]));
  const problems: string[] = [];
  for (const [aggName, members] of groupRuns([...byName.keys()], keys)) {
    const [first, ...rest] = members.map((m) => byName.get(m) as RunRecord);
    if (!first) continue;
    const dataOf = (r: RunRecord) => (upgradeSavedConfig(r.config) as { dataset?: unknown }).dataset ?? null;
    for (const other of rest) {
      const differences = diffConfigs(dataOf(first), dataOf(other), [first.name, other.name], "dataset");
      if (differences.length > 0) {
        problems.push(`${aggName}: ${first.name} and ${other.name} differ in ${differences.join("; ")}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new CurriculaError(
      `Cannot aggregate over ${keys.join(", ")}: runs of one group were trained on different data, so their ` +
        `results do not describe the same samples (give the runs one dataset config, e.g. the same ` +
        `dataset.split_seed, or aggregate separately):\n  ${problems.join("\n  ")}`,
    );
  }
}

async function aggregate(
  expDir: string,
  records: readonly RunRecord[],
  keys: string[],
  options: PostprocessOptions,
  render: PlotRenderer | null,
): Promise<{ keys: string[]; dir: string; runs: Record<string, string[]>; plots: string[] }> {
  validateAggregation(keys);
  const byName = new Map(records.map((r) => [r.name, r]));
  const groups = groupRuns(
    records.map((r) => r.name),
    keys,
  );
  const dir = join(expDir, aggregationDirName(keys));
  const runs: Record<string, string[]> = {};
  let plots: string[] = [];
  await writeDirAtomic(dir, async (tmp) => {
    const aggRecords: RunRecord[] = [];
    for (const [aggName, members] of groups) {
      const group = members.map((m) => byName.get(m) as RunRecord);
      const metricSets = new Set(group.map((r) => metricColumns(r).join(",")));
      if (metricSets.size > 1) {
        throw new CurriculaError(
          `Unable to aggregate over datasets with different metrics: ${aggName} groups runs with columns ${[...metricSets].join(" | ")}.`,
        );
      }
      runs[aggName] = members;
      const out = join(tmp, aggName);
      const { columns, rows } = aggregateMetricRows(group);
      const best = aggregateResults(group.map((r) => r.best));
      const test = aggregateResults(group.map((r) => r.test));
      const config = aggregateConfigs(group.map((r) => r.config)) as Record<string, unknown>;
      const timer = averageTimers(group.map((r) => r.timer));
      writeCsv(join(out, RUN_FILES.metrics), columns, rows);
      writeYaml(join(out, RUN_FILES.best, RUN_FILES.devYaml), best);
      writeYaml(join(out, RUN_FILES.test, RUN_FILES.testHolistic), test);
      writeYaml(join(out, RUN_FILES.config), config);
      writeYaml(join(out, RUN_FILES.runs), members);
      writeYaml(join(out, RUN_FILES.timer), timer);
      aggRecords.push({
        name: aggName,
        dir: out,
        config,
        columns,
        rows,
        bestIteration: typeof best.iteration === "number" ? Math.round(best.iteration) : Number.NaN,
        best,
        test,
        timer,
      });
    }
    // The aggregation folder gets its own summary (dev metrics: the aggregated _best means).
    const summaryRecords = aggRecords.map((r) => ({
      ...r,
      columns: metricColumns(r)
        .filter((c) => !c.endsWith(".std"))
        .concat("iteration"),
    }));
    writeSummaryTables(summaryRecords, tmp);
    plots = (await writePlots(summaryRecords, tmp, options, render)).map((p) => p.replace(tmp, dir));
  });
  return { keys, dir, runs, plots };
}

// ---------------------------------------------------------------------------------------------

/** Checks the results folder and experiment exist (the original's messages, exit code 1). */
export function checkExperiment(resultsDir: string, experimentId: string): void {
  if (!existsSync(resultsDir)) throw new CurriculaError(`Results directory '${resultsDir}' does not exist.`);
  if (!existsSync(experimentDir(resultsDir, experimentId))) {
    throw new CurriculaError(
      `Experiment ID '${experimentId}' does not exist in the results directory '${resultsDir}'.`,
    );
  }
}

/**
 * Summarises an experiment into `summary/` and writes each requested aggregation; also the
 * curriculum pace summary (`summary/pace.csv`) when any run has a pace.
 */
export async function postprocessExperiment(
  resultsDir: string,
  experimentId: string,
  options: PostprocessOptions = {},
): Promise<PostprocessResult> {
  const log = options.log === undefined ? writeLine : options.log;
  for (const keys of options.aggregate ?? []) validateAggregation(keys);
  checkExperiment(resultsDir, experimentId);
  const finished = listRuns(resultsDir, experimentId, { finished: true });
  const unfinished = listRuns(resultsDir, experimentId, { finished: false });
  if (finished.length === 0) {
    throw new DataError(
      `${trainingDir(resultsDir, experimentId)}: no finished training runs (a finished run has metrics.csv)`,
    );
  }
  if (unfinished.length > 0) {
    log?.(`Skipping ${unfinished.length} unfinished run(s) (no metrics.csv): ${unfinished.join(", ")}`);
  }
  const records = finished.map((name) =>
    readRunRecord(join(trainingDir(resultsDir, experimentId), name), name),
  );
  for (const keys of options.aggregate ?? []) checkSameData(records, keys);
  // A chosen reference that names no condition fails before anything is written.
  checkReference(records, options.compare);
  const render: PlotRenderer | null =
    options.renderPlot === undefined
      ? (spec, base) => renderPlot(spec as unknown as VegaLiteSpec, base)
      : options.renderPlot;
  const outDir = summaryDir(resultsDir, experimentId);
  // A postprocess killed part-way left temporary files of its atomic writes behind.
  removeStaleTemporaries(outDir);
  for (const name of readdirNames(join(resultsDir, experimentId))) {
    if (name.startsWith("agg_")) removeStaleTemporaries(join(resultsDir, experimentId, name));
  }
  writeSummaryTables(records, outDir);
  const plots = await writePlots(records, outDir, options, render);
  log?.(`Summarized ${records.length} run(s) in ${outDir}`);
  const comparison = writeComparison(records, outDir, options.compare);
  if (comparison.comparisons.length > 0) log?.(`Paired comparisons in ${comparison.paths[0]}`);
  if (options.difficulty && options.difficulty.length > 0) {
    const { path } = writeDifficultyEvaluation(resultsDir, experimentId, options.difficulty, records);
    log?.(`Difficulty-aware evaluation by ${options.difficulty.join(", ")} in ${path}`);
  }

  const pace = await summarizePace(resultsDir, experimentId, { maxRuns: options.maxRuns });
  if (pace) log?.(`Pace summary in ${pace.csv}`);

  const aggregations: PostprocessResult["aggregations"] = [];
  for (const keys of options.aggregate ?? []) {
    const result = await aggregate(experimentDir(resultsDir, experimentId), records, keys, options, render);
    aggregations.push({ keys: result.keys, dir: result.dir, runs: result.runs });
    plots.push(...result.plots);
    log?.(
      `Aggregated ${records.length} run(s) over ${keys.join(", ")} into ${Object.keys(result.runs).length} run(s) in ${result.dir}`,
    );
  }
  return { runs: finished, unfinished, summaryDir: outDir, aggregations, plots };
}

function readdirNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Summary and aggregations of an experiment (`curricula postprocess`). */
export async function postprocess(
  resultsDir: string,
  experimentId: string,
  options: PostprocessOptions = {},
): Promise<PostprocessResult> {
  return postprocessExperiment(resultsDir, experimentId, options);
}

/** The paired comparisons of an experiment's finished runs (what `curricula compare` prints). */
export function compareExperiment(
  resultsDir: string,
  experimentId: string,
  options: ComparisonOptions = {},
): ReturnType<typeof compareRuns> {
  checkExperiment(resultsDir, experimentId);
  const finished = listRuns(resultsDir, experimentId, { finished: true });
  const records = finished.map((name) =>
    readRunRecord(join(trainingDir(resultsDir, experimentId), name), name),
  );
  checkReference(records, options);
  return compareRuns(records, options);
}
