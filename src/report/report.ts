import { existsSync } from "node:fs";
import { join } from "node:path";
import { experimentDir, REPORT_FILE } from "../config/layout.js";
import { type DatasetConfig, isLoss, type RunConfig, upgradeSavedConfig } from "../config/schema.js";
import { createDataset } from "../data/index.js";
import type { Dataset } from "../data/types.js";
import { barChart, facetHistogram, heatmap, histogram, lineChart, ridgePlot } from "../plots/charts.js";
import { escapeHtml, figure, note, page, section, type TableCell, table } from "../plots/html.js";
import { renderSvg, type VegaLiteSpec } from "../plots/render.js";
import { meanStd } from "../plots/stats.js";
import { confusionMatrix, perClassMetrics } from "../training/metrics.js";
import { writeFileAtomic } from "../util/atomic.js";
import { DataError } from "../util/errors.js";
import {
  CONDITIONS,
  type ExperimentData,
  groupRunsByCondition,
  type RunData,
  type RunGroup,
  readExperiment,
  type ScoreData,
  sharedSettings,
} from "./collect.js";
import {
  difficultySection,
  formatRobustness,
  fusionSection,
  robustnessSection,
  scoreExtras,
} from "./dynamics.js";
import { alignmentProblem, thumbnailTable } from "./thumbnails.js";
import { verdictSection } from "./verdict.js";

/**
 * The experiment report: one self-contained HTML file (inline SVG charts, inline CSS, images as data
 * URIs, no scripts) at `<results_dir>/<experiment_id>/report.html`. Each section degrades to a note
 * when its inputs are missing, so a report can be written at any stage of a study.
 */

/** Rebuilds a dataset from a run's `dataset` config (for thumbnails and class names). */
export type DatasetLoader = (config: DatasetConfig) => Promise<Dataset>;

export interface ReportOptions {
  /** Output file; default `<results_dir>/<experiment_id>/report.html`. */
  outPath?: string;
  /** Thumbnails per side (easiest, hardest) and class; 0 turns them off. Default 4. */
  thumbnails?: number;
  /** How to rebuild a dataset; default `createDataset` from src/data. */
  datasetLoader?: DatasetLoader;
  /** Time printed in the header (fixed in tests). */
  now?: Date;
}

/** Bins of the per-class rank histograms: 0, 0.05, …, 1, as in the per-score plots. */
const RANK_EDGES = Array.from({ length: 21 }, (_, i) => i / 20);

const LOSS_COLUMNS = ["dev_loss", "train_loss"];

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

class Figures {
  private count = 0;
  constructor(readonly problems: string[]) {}

  /** Renders a chart to an inline figure; a failure becomes a note, not a broken page. */
  async render(spec: VegaLiteSpec, caption: string): Promise<string> {
    const id = `fig${++this.count}`;
    try {
      return figure(await renderSvg(spec), caption, id);
    } catch (error) {
      this.problems.push(`${caption}: ${(error as Error).message}`);
      return note(`Could not draw "${caption}": ${(error as Error).message}`, "warn");
    }
  }
}

/** The settings all groups share (from the run names), stated once above the comparison. */
function sharedList(groups: readonly RunGroup[]): string {
  const shared = sharedSettings(groups);
  if (shared.length === 0) return "";
  const items = shared
    .map(
      ([k, v]) => `<span class="setting"><span class="key">${escapeHtml(k)}</span> ${escapeHtml(v)}</span>`,
    )
    .join(" ");
  return `<p class="shared"><strong>Shared by all runs</strong> (curriculum settings: by all curriculum runs): ${items}</p>`;
}

function conditionBadge(condition: string): string {
  return `<span class="cond ${escapeHtml(condition)}">${escapeHtml(condition)}</span>`;
}

function trackingMetricOf(runs: readonly RunData[]): string {
  return runs.find((r) => r.config)?.trackingMetric ?? "accuracy";
}

async function comparisonSection(groups: RunGroup[], tracking: string, figs: Figures): Promise<string> {
  const tested = groups.filter((g) => g.runs.some((r) => r.test));
  if (tested.length === 0) {
    return section(
      "comparison",
      "Test metrics",
      note(
        "No test results yet: no run has _test/test_holistic.yaml (runs write it when training finishes).",
      ),
    );
  }
  const metrics = orderMetrics(
    tested.flatMap((g) => g.runs.flatMap((r) => Object.keys(r.test ?? {}))),
    tracking,
  );
  const means = new Map<string, number[]>();
  for (const metric of metrics) {
    means.set(
      metric,
      tested.map(
        (g) =>
          meanStd(g.runs.flatMap((r) => (r.test && metric in r.test ? [r.test[metric] as number] : []))).mean,
      ),
    );
  }
  const rows = tested.map((g, gi) => {
    const seeds = g.runs.filter((r) => r.test).length;
    const cells: (string | TableCell)[] = [
      { html: conditionBadge(g.condition) },
      g.label,
      { html: String(seeds), className: "num" },
    ];
    for (const metric of metrics) {
      const values = g.runs.flatMap((r) => (r.test && metric in r.test ? [r.test[metric] as number] : []));
      const column = (means.get(metric) as number[]).filter(Number.isFinite);
      const mine = (means.get(metric) as number[])[gi] as number;
      const best = isLoss(metric) ? Math.min(...column) : Math.max(...column);
      const isBest = tested.length > 1 && Number.isFinite(mine) && mine === best;
      cells.push({ html: escapeHtml(formatMeanStd(values)), className: isBest ? "num best" : "num" });
    }
    return cells;
  });
  const missing = CONDITIONS.filter((c) => !tested.some((g) => g.condition === c));
  const parts = [
    `<p class="lead">Test metrics of the best checkpoint, mean ± sample std over seeds; the best value of each column is bold.</p>`,
    sharedList(groups),
    table(["condition", "group", "seeds", ...metrics.map((m) => `test ${m}`)], rows, "metrics"),
  ];
  if (missing.length > 0) parts.push(note(`Not in this experiment: ${missing.join(", ")}.`));
  const barData = tested.flatMap((g) =>
    g.runs.flatMap((r) =>
      r.test && tracking in r.test ? [{ x: g.label, value: r.test[tracking] as number }] : [],
    ),
  );
  if (barData.length > 0) {
    parts.push(
      await figs.render(
        barChart({
          data: barData,
          title: `Test ${tracking} (mean ± std over seeds)`,
          yTitle: tracking,
          xColors: Object.fromEntries(tested.map((g) => [g.label, g.color])),
        }),
        `Test ${tracking} per condition; error bars show ± one sample standard deviation over seeds.`,
      ),
    );
  }
  return section("comparison", "Test metrics", parts.join("\n"));
}

/** Class names of a group's dataset (rebuilt with the loader), else the class codes. */
async function classNamesFor(
  group: RunGroup,
  numClasses: number,
  loader: DatasetLoader,
  cache: Map<string, Promise<Dataset>>,
): Promise<string[]> {
  const config = group.runs.find((r) => r.config)?.config as RunConfig | undefined;
  const codes = Array.from({ length: numClasses }, (_, c) => String(c));
  if (!config?.dataset) return codes;
  try {
    const dataset = await cachedDataset(config, loader, cache);
    return dataset.classNames.length === numClasses ? [...dataset.classNames] : codes;
  } catch {
    return codes;
  }
}

function cachedDataset(
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

/**
 * Per condition: the confusion matrix of the test predictions pooled over seeds (row-normalised:
 * each row is a true class, each cell the share predicted as the column's class) and per-class
 * precision, recall, F1 and support.
 */
async function classesSection(
  groups: RunGroup[],
  figs: Figures,
  loader: DatasetLoader,
  cache: Map<string, Promise<Dataset>>,
): Promise<string> {
  const withOutputs = groups.filter((g) => g.runs.some((r) => r.testOutputs));
  if (withOutputs.length === 0) {
    return section(
      "classes",
      "Per-class test results",
      note(
        "No test outputs (training/<run>/_test/test_outputs.npy; runs write them with save_test_outputs).",
      ),
    );
  }
  const parts: string[] = [
    `<p class="lead">Test predictions of the best checkpoint, pooled over the seeds of each condition.</p>`,
  ];
  for (const group of withOutputs) {
    const runs = group.runs.filter((r) => r.testOutputs);
    const c = Math.max(...runs.map((r) => r.testOutputs?.numClasses ?? 0));
    const confusion = new Float64Array(c * c);
    for (const run of runs) {
      const out = run.testOutputs as NonNullable<RunData["testOutputs"]>;
      const m = confusionMatrix(out.predictions, out.targets, c);
      for (let i = 0; i < m.length; i++) confusion[i] = (confusion[i] as number) + (m[i] as number);
    }
    const names = await classNamesFor(group, c, loader, cache);
    const rows = Array.from({ length: c }, (_, i) => {
      const row = confusion.subarray(i * c, (i + 1) * c);
      const total = row.reduce((a, b) => a + b, 0);
      return Array.from(row, (v) => (total > 0 ? v / total : Number.NaN));
    });
    const heat = await figs.render(
      heatmap({
        matrix: rows,
        labels: names,
        title: `${group.label}: confusion matrix`,
        format: ".0%",
        domain: [0, 1],
        scheme: "blues",
        cellSize: Math.max(16, Math.min(44, 520 / c)),
        annotate: c <= 15,
        xTitle: "predicted class",
        yTitle: "true class",
      }),
      `Rows: true class; cells: share of its test samples predicted as the column's class (${runs.length} seed(s) pooled).`,
    );
    const metrics = perClassMetrics(confusion, c);
    const tableRows = metrics.map((m, i) => [
      names[i] ?? String(i),
      { html: m.precision.toFixed(4), className: "num" },
      { html: m.recall.toFixed(4), className: "num" },
      { html: m.f1.toFixed(4), className: "num" },
      { html: String(m.support), className: "num" },
    ]);
    parts.push(
      `<details class="classes" open><summary>${conditionBadge(group.condition)} ${escapeHtml(group.label)}</summary>` +
        `<div class="row">${heat}\n${table(["class", "precision", "recall", "f1", "support"], tableRows, "metrics")}</div></details>`,
    );
  }
  return section("classes", "Per-class test results", parts.join("\n"));
}

function curveRows(group: RunGroup, column: string): Record<string, unknown>[] {
  return group.runs.flatMap((run) =>
    (run.metrics?.rows ?? [])
      .filter((row) => Number.isFinite(row[column]) && Number.isFinite(row.iteration))
      .map((row) => ({ iteration: row.iteration, value: row[column], group: group.label, run: run.name })),
  );
}

/** The training type of a group's runs (`epoch` or `step`): what its iterations count. */
function trainingTypeOf(group: RunGroup): string {
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

function metricChart(
  groups: RunGroup[],
  column: string,
  title: string,
  width: number,
  trainingType: string,
): VegaLiteSpec | null {
  const data = groups.flatMap((g) => curveRows(g, column));
  if (data.length === 0) return null;
  const iterations = new Set(data.map((d) => d.iteration)).size;
  return lineChart({
    data,
    x: "iteration",
    y: "value",
    color: "group",
    detail: "run",
    colorOrder: groups.map((g) => g.label),
    colorRange: groups.map((g) => g.color),
    colorTitle: "condition",
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
function typeSuffix(type: string, split: boolean): string {
  return split ? ` (${type} runs)` : "";
}

async function trainingSection(groups: RunGroup[], tracking: string, figs: Figures): Promise<string> {
  const withMetrics = groups.filter((g) => g.runs.some((r) => r.metrics));
  if (withMetrics.length === 0) {
    return section(
      "training",
      "Training curves",
      note("No finished training runs (no training/<run>/metrics.csv)."),
    );
  }
  const figures: string[] = [];
  const parts2 = byTrainingType(withMetrics);
  const split = parts2.length > 1;
  for (const { type, groups: same } of parts2) {
    for (const column of [tracking, ...LOSS_COLUMNS]) {
      const title = `${column === tracking ? `Dev ${tracking}` : column.replace("_", " ")}${typeSuffix(type, split)}`;
      const spec = metricChart(same, column, title, 520, type);
      if (spec)
        figures.push(
          await figs.render(
            spec,
            `${title} per evaluation (x: ${type}s); colour = condition, one line per seed.`,
          ),
        );
    }
  }
  const unfinished = groups.flatMap((g) => g.runs).filter((r) => !r.finished);
  const parts = [`<div class="row">${figures.join("\n")}</div>`];
  if (figures.length === 0)
    parts.push(
      note(`metrics.csv has none of the columns ${[tracking, ...LOSS_COLUMNS].join(", ")}.`, "warn"),
    );
  if (unfinished.length > 0) {
    parts.push(
      note(
        `${unfinished.length} run(s) not finished (no metrics.csv): ${unfinished.map((r) => r.name).join(", ")}.`,
        "warn",
      ),
    );
  }
  return section("training", "Training curves", parts.join("\n"));
}

async function paceSection(groups: RunGroup[], tracking: string, figs: Figures): Promise<string> {
  const paced = groups.filter((g) => g.runs.some((r) => r.pace && r.pace.length > 0));
  if (paced.length === 0) {
    return section("pacing", "Pacing", note("No curriculum runs (no training/<run>/pace.csv)."));
  }
  const rows: string[] = [];
  const types = byTrainingType(paced);
  const split = types.length > 1;
  for (const { type, groups: same } of types) {
    const paceData = same.flatMap((g) =>
      g.runs.flatMap((run) =>
        (run.pace ?? []).map((p) => ({
          iteration: p.iteration,
          dataset_size: p.dataset_size,
          group: g.label,
          run: run.name,
        })),
      ),
    );
    const pace = await figs.render(
      lineChart({
        data: paceData,
        x: "iteration",
        y: "dataset_size",
        color: "group",
        detail: "run",
        colorOrder: same.map((g) => g.label),
        colorRange: same.map((g) => g.color),
        colorTitle: "curriculum runs",
        integerX: true,
        title: `Pace: training subset size${typeSuffix(type, split)}`,
        xTitle: type,
        yTitle: "dataset size",
        step: true,
        width: 400,
        height: 260,
      }),
      `Size of the training subset the sampler draws from at each ${type} (pace.csv).`,
    );
    // the dev metric of the same runs, with the baselines of the same budget and type for comparison
    const budgets = new Set(same.map((g) => g.runs[0]?.fields?.iterations));
    const baselines = groups.filter(
      (g) =>
        g.condition === "Baseline" &&
        trainingTypeOf(g) === type &&
        budgets.has(g.runs[0]?.fields?.iterations) &&
        g.runs.some((r) => r.metrics),
    );
    const spec = metricChart(
      [...same, ...baselines],
      tracking,
      `Dev ${tracking}${typeSuffix(type, split)}`,
      400,
      type,
    );
    const dev = spec
      ? await figs.render(
          spec,
          `Dev ${tracking} of the curriculum runs and the baselines with the same budget.`,
        )
      : note(`No dev ${tracking} for the curriculum runs yet.`);
    rows.push(`<div class="row">${pace}\n${dev}</div>`);
  }
  return section(
    "pacing",
    "Pacing and dev metric",
    `<p class="lead">How much of the data each curriculum run saw (left) next to how it learned (right; below on narrow screens).</p>${rows.join("\n")}`,
  );
}

/** "Spearman correlation of per-sample scores" (the method from the matrix's card, when written). */
export function correlationTitle(method: string | null): string {
  const name = method ? `${method[0]?.toUpperCase()}${method.slice(1)} correlation` : "Correlation";
  return `${name} of per-sample scores`;
}

/** Card keys not worth a line (identity is in the heading; atomic run names repeat training_runs). */
const HIDDEN_CARD_KEYS = new Set(["id", "type", "created", "runs"]);

function cardValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(cardValue).join("\n");
  if (value && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k} ${cardValue(v)}`)
      .join(", ");
  }
  return String(value);
}

/** The score card (`<id>.yaml`) as a definition list, plus the file and sample count. */
function cardList(score: ScoreData): string {
  const items: [string, string][] = [
    ["file", score.path],
    ["samples", String(score.mean.length)],
  ];
  for (const [key, value] of Object.entries(score.card ?? {})) {
    if (HIDDEN_CARD_KEYS.has(key) || key === "samples") continue;
    items.push([key, key === "robustness" ? formatRobustness(value) : cardValue(value)]);
  }
  if (!score.card?.training_runs && Array.isArray(score.card?.runs))
    items.push(["runs", cardValue(score.card.runs)]);
  return `<dl class="card">${items
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v).replace(/\n/g, "<br>")}</dd>`)
    .join("")}</dl>`;
}

/** The run whose config rebuilds the data a score was computed on: one of its runs, else any. */
function configForScore(score: ScoreData, runs: readonly RunData[]): RunConfig | null {
  const named = score.card?.training_runs ?? score.card?.runs;
  const names = Array.isArray(named) ? named.map(String) : typeof named === "string" ? [named] : [];
  const byName = runs.find((r) => r.config && names.includes(r.name));
  const any = byName ?? runs.find((r) => r.config);
  return (any?.config as RunConfig | undefined) ?? null;
}

async function thumbnailsFor(
  score: ScoreData,
  runs: readonly RunData[],
  k: number,
  loader: DatasetLoader,
  cache: Map<string, Promise<Dataset>>,
): Promise<string> {
  const config = configForScore(score, runs);
  if (!config) return note("No run config to rebuild the dataset from, so no sample thumbnails.");
  let dataset: Dataset;
  try {
    dataset = await cachedDataset(config, loader, cache);
  } catch (error) {
    return note(
      `Could not rebuild dataset ${config.dataset.id} for thumbnails: ${(error as Error).message}`,
      "warn",
    );
  }
  if (!dataset.isImage || !dataset.imageShape) return "";
  const problem = alignmentProblem(score, dataset);
  if (problem)
    return note(
      `Thumbnails skipped: ${score.path} does not match dataset ${dataset.id}: ${problem}.`,
      "warn",
    );
  return `<h3>Easiest and hardest samples per class</h3>${thumbnailTable(score, dataset, k)}`;
}

/**
 * Per-seed scores (`<id>-s<seed>` beside an ensemble `<id>` of the same type, as a study writes
 * them) are folded into their ensemble's section: they appear in the correlation matrix, and
 * drawing every one in full would repeat the same charts many times.
 */
export function splitSeedScores<T extends { id: string; type: string }>(
  scores: readonly T[],
): { primary: T[]; members: Map<T, T[]> } {
  const byKey = new Map(scores.map((s) => [`${s.type}/${s.id}`, s]));
  const members = new Map<T, T[]>();
  const primary: T[] = [];
  for (const score of scores) {
    const base = /^(.+)-s\d+$/.exec(score.id)?.[1];
    const ensemble = base ? byKey.get(`${score.type}/${base}`) : undefined;
    if (ensemble) members.set(ensemble, [...(members.get(ensemble) ?? []), score]);
    else primary.push(score);
  }
  return { primary, members };
}

function seedScoreNote(seedScores: readonly { id: string }[]): string {
  if (seedScores.length === 0) return "";
  const ids = seedScores.map((s) => `<code>${escapeHtml(s.id)}</code>`).join(", ");
  return `<p class="note">Per-seed scores of this ensemble (in the correlation matrix): ${ids}.</p>`;
}

async function scoresSection(
  data: ExperimentData,
  figs: Figures,
  options: ReportOptions,
  cache: Map<string, Promise<Dataset>>,
): Promise<string> {
  const parts: string[] = [];
  if (data.scores.length === 0 && data.matrices.length === 0) {
    return section(
      "scores",
      "Difficulty scores",
      note(
        "No scores computed (no curriculum/<scoring type>/<score id>.csv); run `curricula score` to compute them.",
      ),
    );
  }
  for (const m of data.matrices) {
    parts.push(
      await figs.render(
        heatmap({
          matrix: m.matrix,
          labels: m.rowLabels,
          columnLabels: m.columnLabels,
          title: correlationTitle(m.method),
        }),
        `${m.name}.csv: ${correlationTitle(m.method)}, where each score is its per-sample mean ` +
          "oriented so that higher means harder, with equal values kept as ties (not the position-broken ranks): " +
          "how much two scoring functions agree on what is hard.",
      ),
    );
  }
  if (data.matrices.length === 0) {
    parts.push(note("No correlation matrix (curriculum/<matrix>.csv) yet."));
  }
  const k = options.thumbnails ?? 4;
  const loader = options.datasetLoader ?? createDataset;
  const { primary, members } = splitSeedScores(data.scores);
  for (const score of primary) {
    const seedScores = members.get(score) ?? [];
    const title = `${score.type} / ${score.id}`;
    const classes = score.decoded;
    const charts = [
      await figs.render(
        histogram({
          values: score.mean,
          bins: 20,
          title: `${score.id}: histogram`,
          xTitle: "mean",
          width: 360,
          height: 220,
        }),
        "Distribution of the raw score (mean over runs).",
      ),
      await figs.render(
        ridgePlot({
          values: score.ranks,
          groups: classes,
          title: `${score.id}: ridge per class`,
          gridPoints: 64,
          domain: [0, 1],
          width: 360,
        }),
        "Density of ranks (0 easiest, 1 hardest) per class.",
      ),
    ];
    const facet = await figs.render(
      facetHistogram({
        values: score.ranks,
        groups: classes,
        bins: RANK_EDGES,
        stat: "percent",
        title: `${score.id}: percent per class`,
        columns: 5,
        width: 140,
        height: 80,
      }),
      "Share of each class's samples per rank bin.",
    );
    const thumbs =
      k > 0 && score.mean.length > 0 ? await thumbnailsFor(score, data.runs, k, loader, cache) : "";
    const extras = await scoreExtras(score, (spec, caption) => figs.render(spec, caption), figs.problems);
    parts.push(
      `<details class="score" open><summary>${escapeHtml(title)}</summary>${cardList(score)}${seedScoreNote(seedScores)}${extras}<div class="row">${charts.join("\n")}</div>${facet}${thumbs}</details>`,
    );
  }
  if (data.scores.length === 0) parts.push(note("No score files (curriculum/<type>/<id>.csv)."));
  return section("scores", "Difficulty scores", parts.join("\n"));
}

function runsSection(groups: RunGroup[], tracking: string): string {
  const runs = groups.flatMap((g) => g.runs.map((r) => ({ run: r, group: g })));
  if (runs.length === 0) {
    return section("runs", "Runs", note("No training runs (no training/ folder in this experiment)."));
  }
  const rows = runs.map(({ run, group }) => {
    const column = run.metrics?.rows.map((r) => r[tracking] as number).filter(Number.isFinite) ?? [];
    const best =
      column.length > 0 ? (isLoss(tracking) ? Math.min(...column) : Math.max(...column)) : Number.NaN;
    const test = run.test?.[tracking];
    return [
      { html: conditionBadge(run.condition) },
      group.label,
      run.seed,
      { html: escapeHtml(run.name), className: "run" },
      run.finished ? "finished" : "unfinished",
      { html: Number.isFinite(best) ? best.toFixed(4) : "–", className: "num" },
      { html: test === undefined ? "–" : test.toFixed(4), className: "num" },
    ];
  });
  return section(
    "runs",
    "Runs",
    table(["condition", "group", "seed", "run", "status", `best dev ${tracking}`, `test ${tracking}`], rows),
  );
}

/** Builds the report HTML from experiment data already read. */
export async function buildReport(data: ExperimentData, options: ReportOptions = {}): Promise<string> {
  const problems = [...data.problems];
  const figs = new Figures(problems);
  const groups = groupRunsByCondition(data.runs);
  const tracking = trackingMetricOf(data.runs);
  const loader = options.datasetLoader ?? createDataset;
  const datasets = new Map<string, Promise<Dataset>>();
  const sections = [
    await verdictSection(groups, tracking, (spec, caption) => figs.render(spec, caption)),
    await comparisonSection(groups, tracking, figs),
    await classesSection(groups, figs, loader, datasets),
    await trainingSection(groups, tracking, figs),
    await paceSection(groups, tracking, figs),
    await scoresSection(data, figs, options, datasets),
    await robustnessSection(data, (spec, caption) => figs.render(spec, caption), problems),
    fusionSection(data, problems),
    await difficultySection(data, (spec, caption) => figs.render(spec, caption), problems),
    runsSection(groups, tracking),
  ];
  if (problems.length > 0) {
    sections.push(
      section(
        "problems",
        "Problems",
        `<ul>${problems.map((p) => `<li>${escapeHtml(p)}</li>`).join("")}</ul>`,
      ),
    );
  }
  const now = options.now ?? new Date();
  const finished = data.runs.filter((r) => r.finished).length;
  const meta = [
    `results: <code>${escapeHtml(data.dir)}</code>`,
    `${data.runs.length} training runs (${finished} finished)`,
    `${data.scores.length} score files`,
    `generated ${escapeHtml(now.toISOString().replace("T", " ").slice(0, 19))} UTC`,
  ].join(" · ");
  const nav: [string, string][] = [
    ["verdict", "Verdict"],
    ["comparison", "Test metrics"],
    ["classes", "Per class"],
    ["training", "Training curves"],
    ["pacing", "Pacing"],
    ["scores", "Difficulty scores"],
    ["robustness", "Robustness"],
    ["fusion", "Late fusion"],
    ["difficulty", "By difficulty"],
    ["runs", "Runs"],
  ];
  if (problems.length > 0) nav.push(["problems", "Problems"]);
  return page({
    title: `curricula report: ${data.experimentId}`,
    meta,
    nav,
    sections,
    footer: "Written by curricula. Self-contained: charts are inline SVG, images are data URIs.",
  });
}

/**
 * Writes the report of `<resultsDir>/<experimentId>` and returns its path. Throws a DataError only if
 * the experiment folder does not exist; missing parts become notes in the page.
 */
export async function writeReport(
  resultsDir: string,
  experimentId: string,
  options: ReportOptions = {},
): Promise<string> {
  const dir = experimentDir(resultsDir, experimentId);
  if (!existsSync(dir)) {
    throw new DataError(
      `${dir}: experiment folder not found (expected <results_dir>/<experiment_id> with a training/ folder)`,
    );
  }
  const data = readExperiment(resultsDir, experimentId);
  const html = await buildReport(data, options);
  const outPath = options.outPath ?? join(dir, REPORT_FILE);
  await writeFileAtomic(outPath, html);
  return outPath;
}
