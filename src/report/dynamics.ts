import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { ensembleSizeFile, fusionRoot, SUMMARY_FILES, summaryDir } from "../config/layout.js";
import { conditionOfCode, tryParseRunName } from "../config/naming.js";
import { lineChart } from "../plots/charts.js";
import { dataMap } from "../plots/data-map.js";
import { escapeHtml, note, section, type TableCell, table } from "../plots/html.js";
import type { VegaLiteSpec } from "../plots/render.js";
import { meanStd } from "../plots/stats.js";
import {
  type FusionCard,
  listFusions,
  readDifficultyTable,
  readEnsembleSize,
  readFusionCard,
} from "../results/analysis-tables.js";
import { readScoreRows } from "../results/score-table.js";
import { type ExperimentData, groupRunsByCondition, type ScoreData } from "./collect.js";

/**
 * Report parts of the training-dynamics scores, seed robustness, late fusion and difficulty-aware
 * evaluation. Each reads its own files (score CSV columns, `fusion/<id>/fusion.yaml`,
 * `summary/difficulty.csv`) and turns a missing or malformed file into a note and a problem entry.
 */

/** Renders a chart into an inline figure (the report's figure counter and error handling). */
export type RenderFigure = (spec: VegaLiteSpec, caption: string) => Promise<string>;

const fmt = (v: unknown, digits = 3) =>
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

/** A table of every score's seed robustness (cards with `robustness`) and the ensemble-size curves. */
export async function robustnessSection(
  data: ExperimentData,
  render: RenderFigure,
  problems: string[],
): Promise<string> {
  const robust = data.scores.filter((s) => s.card && typeof s.card.robustness === "object");
  if (robust.length === 0) {
    return section(
      "robustness",
      "Seed robustness",
      note(
        "No score with two or more runs (robustness needs an ensemble: a list or an aggregated run name).",
      ),
    );
  }
  const rows = robust.map((s) => {
    const r = s.card?.robustness as Record<string, unknown>;
    const ci = Array.isArray(r.spearman_ci95) ? r.spearman_ci95 : [];
    return [
      s.type,
      { html: `<code>${escapeHtml(s.id)}</code>` },
      { html: String(r.runs), className: "num" },
      { html: fmt(r.spearman_mean), className: "num" },
      { html: `${fmt(ci[0])} – ${fmt(ci[1])}`, className: "num" },
      { html: fmt(r.kendall_mean), className: "num" },
    ] as (string | TableCell)[];
  });
  const curves: Record<string, unknown>[] = [];
  for (const s of robust) {
    const path = ensembleSizeFile(dirname(s.path), s.id);
    if (!existsSync(path)) continue;
    try {
      for (const row of readEnsembleSize(path))
        curves.push({ score: s.id, k: row.k, spearman: row.spearman_mean });
    } catch (error) {
      problems.push(`${path}: ${(error as Error).message}`);
    }
  }
  const sizes = new Set(curves.map((c) => c.k));
  const chart =
    sizes.size > 1
      ? await render(
          lineChart({
            data: curves,
            x: "k",
            y: "spearman",
            color: "score",
            title: "Agreement of two disjoint k-run ensembles",
            xTitle: "runs per ensemble (k)",
            yTitle: "Spearman",
            integerX: true,
            points: true,
            width: 420,
            height: 240,
          }),
          "Spearman correlation between the scores of two disjoint sub-ensembles of k runs (mean over pairs): how much averaging more seeds stabilises a score.",
        )
      : note(
          "Ensemble-size curves need four or more runs (two disjoint ensembles of two); with fewer they hold only k = 1, the pairwise value above.",
        );
  return section(
    "robustness",
    "Seed robustness",
    `<p class="lead">How much each score depends on the training seed: the mean pairwise Spearman (ties as ties) and Kendall correlation of the per-run scores, oriented hard-is-high, with a bootstrap 95% interval over samples. Low values mean a single run's ranking is mostly noise; the ensemble averages it out.</p>${table(["type", "score", "runs", "Spearman", "95% CI", "Kendall"], rows)}${chart}`,
  );
}

function conditionOfName(name: string): string {
  const code = tryParseRunName(name)?.curriculum;
  return (code === undefined ? null : conditionOfCode(code)) ?? name;
}

/** The late-fusion table: each fused name's own ensemble, the equal-size baseline, the fusion. */
export function fusionSection(data: ExperimentData, problems: string[]): string {
  const dir = fusionRoot(data.resultsDir, data.experimentId);
  const ids = listFusions(dir);
  if (ids.length === 0) {
    return section(
      "fusion",
      "Late fusion",
      note("No late fusion (fusion/<id>/fusion.yaml); run `curricula fuse` or a study with fusion: true."),
    );
  }
  const parts: string[] = [
    `<p class="lead">Late fusion averages the softmax outputs of the members on the test subset and predicts the argmax. Rows: each fused condition's own seed ensemble, an ensemble of as many baseline seeds (when the experiment has that many), and the fusion of all members.</p>`,
  ];
  for (const id of ids) {
    let doc: FusionCard;
    try {
      doc = readFusionCard(join(dir, id));
    } catch (error) {
      problems.push((error as Error).message);
      continue;
    }
    const metrics = doc.metrics;
    const names = Object.keys(metrics ?? {});
    const single = (doc.single ?? {}) as Record<string, Record<string, number>>;
    const row = (
      label: string,
      members: string[],
      m: Record<string, number>,
      bold = false,
    ): (string | TableCell)[] => {
      const singles = members
        .map((r) => single[r]?.[names[0] as string])
        .filter((v): v is number => typeof v === "number");
      return [
        { html: bold ? `<strong>${escapeHtml(label)}</strong>` : escapeHtml(label) },
        { html: String(members.length), className: "num" },
        ...names.map((n) => ({ html: fmt(m[n], 4), className: bold ? "num best" : "num" })),
        { html: singles.length > 0 ? fmt(meanStd(singles).mean, 4) : "–", className: "num" },
      ];
    };
    const rows: (string | TableCell)[][] = [];
    for (const [name, ensemble] of Object.entries(
      (doc.ensembles ?? {}) as Record<string, { members: string[]; metrics: Record<string, number> }>,
    )) {
      rows.push(row(`${conditionOfName(name)} (seed ensemble)`, ensemble.members, ensemble.metrics));
    }
    const baseline = doc.baseline as {
      members?: string[];
      metrics?: Record<string, number>;
      reason?: string;
    };
    if (baseline?.metrics && baseline.members) {
      rows.push(
        row(`Baseline, ${baseline.members.length} seeds (equal size)`, baseline.members, baseline.metrics),
      );
    }
    rows.push(row("Late fusion of all members", (doc.members as string[]) ?? [], metrics, true));
    parts.push(
      `<h3>${escapeHtml(id)}</h3>`,
      table(
        ["ensemble", "models", ...names.map((n) => `test ${n}`), `mean single-model ${names[0] ?? ""}`],
        rows,
        "metrics",
      ),
    );
    if ("reason" in baseline) parts.push(note(`No equal-size baseline ensemble: ${baseline.reason}.`));
  }
  return section("fusion", "Late fusion", parts.join("\n"));
}

/** Metrics per difficulty quantile (`summary/difficulty.csv`), per condition: table and chart. */
export async function difficultySection(
  data: ExperimentData,
  render: RenderFigure,
  problems: string[],
): Promise<string> {
  const path = join(summaryDir(data.resultsDir, data.experimentId), SUMMARY_FILES.difficulty);
  if (!existsSync(path)) {
    return section(
      "difficulty",
      "Difficulty-aware evaluation",
      note(
        "No difficulty-aware evaluation (summary/difficulty.csv); run `curricula postprocess … -d <score id>` with a score of the dev or test subset.",
      ),
    );
  }
  let csv: ReturnType<typeof readDifficultyTable>;
  try {
    csv = readDifficultyTable(path);
  } catch (error) {
    problems.push(`${path}: ${(error as Error).message}`);
    return section("difficulty", "Difficulty-aware evaluation", note(`Could not read ${path}.`, "warn"));
  }
  const groups = groupRunsByCondition(data.runs);
  const groupOf = new Map(groups.flatMap((g) => g.runs.map((r) => [r.name, g])));
  const tracking = data.runs.find((r) => r.config)?.trackingMetric ?? "accuracy";
  const metric = csv.metrics.includes(tracking) ? tracking : (csv.metrics[0] ?? "accuracy");
  const parts: string[] = [
    `<p class="lead">Test and dev ${escapeHtml(metric)} on the hardest 10, 25, 50 and 100% of the samples by a difficulty score of that subset (mean ± sample std over seeds). The score's runs decide what is hard, so runs that computed it look worse on its hardest samples than other runs would; compare conditions whose runs did not compute it.</p>`,
  ];
  const keys = [...new Set(csv.rows.map((r) => `${r.score}|${r.subset}`))];
  for (const key of keys) {
    const [score, subset] = key.split("|") as [string, string];
    const rows = csv.rows.filter((r) => r.score === score && r.subset === subset);
    const fractions = [...new Set(rows.map((r) => r.hardest))].sort((a, b) => a - b);
    const byGroup = new Map<string, Map<number, number[]>>();
    const chartData: Record<string, unknown>[] = [];
    for (const r of rows) {
      const g = groupOf.get(r.run_name);
      const label = g?.label ?? r.run_name;
      const m = byGroup.get(label) ?? new Map<number, number[]>();
      const f = r.hardest;
      m.set(f, [...(m.get(f) ?? []), r.metrics[metric] as number]);
      byGroup.set(label, m);
    }
    const order = groups.map((g) => g.label).filter((l) => byGroup.has(l));
    for (const label of [...byGroup.keys()]) if (!order.includes(label)) order.push(label);
    const tableRows = order.map((label) => {
      const m = byGroup.get(label) as Map<number, number[]>;
      return [
        label,
        ...fractions.map((f) => {
          const { mean, std, n } = meanStd(m.get(f) ?? []);
          chartData.push({ hardest: f * 100, value: mean, group: label });
          return { html: n > 1 ? `${fmt(mean, 4)} ± ${fmt(std, 4)}` : fmt(mean, 4), className: "num" };
        }),
      ] as (string | TableCell)[];
    });
    parts.push(
      `<h3>${escapeHtml(subset)} subset by <code>${escapeHtml(score)}</code></h3>`,
      table(["condition", ...fractions.map((f) => `hardest ${Math.round(f * 100)}%`)], tableRows, "metrics"),
      await render(
        lineChart({
          data: chartData,
          x: "hardest",
          y: "value",
          color: "group",
          colorOrder: order,
          colorRange: order.map((l) => groups.find((g) => g.label === l)?.color ?? "#777"),
          title: `${subset} ${metric} on the hardest samples by ${score}`,
          xTitle: "hardest % of samples",
          yTitle: metric,
          points: true,
          width: 420,
          height: 240,
        }),
        `${subset} ${metric} of each condition on the hardest fraction of samples by ${score}.`,
      ),
    );
  }
  return section("difficulty", "Difficulty-aware evaluation", parts.join("\n"));
}
