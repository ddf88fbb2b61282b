import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { ensembleSizeFile } from "../../config/layout.js";
import { lineChart } from "../../plots/charts.js";
import { escapeHtml, note, type TableCell, table } from "../../plots/html.js";
import { readEnsembleSize } from "../../results/analysis-tables.js";
import type { ExperimentData } from "../collect.js";
import type { RenderFigure, ReportSection } from "../context.js";
import { fmt } from "./shared.js";

/** A table of every score's seed robustness (cards with `robustness`) and the ensemble-size curves. */
async function robustnessBody(
  data: ExperimentData,
  render: RenderFigure,
  problems: string[],
): Promise<string> {
  const robust = data.scores.filter((s) => s.card && typeof s.card.robustness === "object");
  if (robust.length === 0) {
    return note(
      "No score with two or more runs (robustness needs an ensemble: a list or an aggregated run name).",
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
  return `<p class="lead">How much each score depends on the training seed: the mean pairwise Spearman (ties as ties) and Kendall correlation of the per-run scores, oriented hard-is-high, with a bootstrap 95% interval over samples. Low values mean a single run's ranking is mostly noise; the ensemble averages it out.</p>${table(["type", "score", "runs", "Spearman", "95% CI", "Kendall"], rows)}${chart}`;
}

/** How much each score depends on the training seed. */
export const robustnessSection: ReportSection = {
  id: "robustness",
  title: "Seed robustness",
  nav: "Robustness",
  build: (ctx) => robustnessBody(ctx.data, ctx.render, ctx.problems),
};
