import { createRunDataset } from "../../assembly/review.js";
import type { RunConfig } from "../../config/schema.js";
import type { Dataset } from "../../data/types.js";
import { facetHistogram, heatmap, histogram, ridgePlot } from "../../plots/charts.js";
import { dataMap } from "../../plots/data-map.js";
import { escapeHtml, note } from "../../plots/html.js";
import { readScoreRows } from "../../results/score-table.js";
import type { ExperimentData, RunData, ScoreData } from "../collect.js";
import type { DatasetLoader, Figures, RenderFigure, ReportOptions, ReportSection } from "../context.js";
import { alignmentProblem, thumbnailTable } from "../thumbnails.js";
import { cachedDataset, fmt, formatRobustness } from "./shared.js";

/** Bins of the per-class rank histograms: 0, 0.05, …, 1, as in the per-score plots. */
const RANK_EDGES = Array.from({ length: 21 }, (_, i) => i / 20);

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

/** Extra columns of a score CSV (those the report's score reader does not keep). */
function scoreColumns(
  score: ScoreData,
  names: readonly string[],
  problems: string[],
): Record<string, Float64Array> | null {
  try {
    const rows = readScoreRows(score.path);
    const missing = names.filter((n) => !rows.columns.has(n));
    if (missing.length > 0) {
      problems.push(`${score.path}: missing column(s) ${missing.join(", ")}`);
      return null;
    }
    return Object.fromEntries(names.map((n) => [n, rows.columns.get(n) as Float64Array]));
  } catch (error) {
    problems.push(`${score.path}: ${(error as Error).message}`);
    return null;
  }
}

/** Per-score extras inside its section: the data map of a Cartography score, a label-issue summary. */
export async function scoreExtras(
  score: ScoreData,
  render: RenderFigure,
  problems: string[],
): Promise<string> {
  const parts: string[] = [];
  if (score.type === "Cartography") {
    const cols = scoreColumns(score, ["confidence", "variability", "correctness"], problems);
    const thresholds = score.card?.thresholds as { confidence?: number; variability?: number } | undefined;
    if (cols) {
      parts.push(
        await render(
          dataMap({
            confidence: cols.confidence as Float64Array,
            variability: cols.variability as Float64Array,
            correctness: cols.correctness as Float64Array,
            title: `${score.id}: data map`,
            ...(typeof thresholds?.confidence === "number" && typeof thresholds.variability === "number"
              ? { thresholds: { confidence: thresholds.confidence, variability: thresholds.variability } }
              : {}),
          }),
          "Data map (Swayamdipta et al. 2020): variability and confidence of p_y over evaluations, colour = fraction of evaluations correct; dashed lines are the region thresholds (left of the vertical line: easy above, hard below; right: ambiguous).",
        ),
      );
    }
  }
  if (typeof score.card?.label_issues === "number") {
    const issues = score.card.label_issues;
    parts.push(
      `<p class="lead"><strong>${issues}</strong> label issue(s) (${fmt(100 * (score.card.label_issue_fraction as number), 2)}% of ${score.mean.length} samples) by the confident joint; the <code>label_issue</code> column of <code>${escapeHtml(score.path)}</code> marks them.</p>`,
    );
  }
  return parts.join("\n");
}

async function scoresBody(
  data: ExperimentData,
  figs: Figures,
  options: ReportOptions,
  cache: Map<string, Promise<Dataset>>,
): Promise<string> {
  const parts: string[] = [];
  if (data.scores.length === 0 && data.matrices.length === 0) {
    return note(
      "No scores computed (no curriculum/<scoring type>/<score id>.csv); run `curricula score` to compute them.",
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
  const loader = options.datasetLoader ?? createRunDataset;
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
  return parts.join("\n");
}

/** The difficulty scores: cards, distributions, correlations, thumbnails and the training-dynamics columns. */
export const scoresSection: ReportSection = {
  id: "scores",
  title: "Difficulty scores",
  nav: "Difficulty scores",
  build: (ctx) => scoresBody(ctx.data, ctx.figs, ctx.options, ctx.datasets),
};
