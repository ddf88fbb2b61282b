import { escapeHtml, note, type TableCell, table } from "../../plots/html.js";
import type { ExperimentData } from "../collect.js";
import type { ReportSection } from "../context.js";
import { fmt } from "./shared.js";

/**
 * How well each score finds the labels that `dataset.label_noise` changed, from the `label_noise`
 * entry of its card (written when its runs trained on noisy labels): average precision, AUROC and
 * recall among the hardest 1/5/10 %, a `label_issue` flag's precision and recall, and each
 * ConfidentLearning `filter_by` method's on the same probabilities.
 */

type Card = Record<string, unknown>;

function num(value: unknown): TableCell {
  return { html: fmt(value), className: "num" };
}

function scoreCell(id: string): TableCell {
  return { html: `<code>${escapeHtml(id)}</code>` };
}

/** A flag's "precision / recall (flagged)". */
function flagCell(flag: unknown): TableCell {
  if (typeof flag !== "object" || flag === null) return { html: "" };
  const f = flag as Card;
  return {
    html: `${fmt(f.precision)} / ${fmt(f.recall)} (${escapeHtml(String(f.flagged))})`,
    className: "num",
  };
}

function labelNoiseBody(data: ExperimentData): string {
  const noisy = data.scores.flatMap((s) => {
    const card = s.card?.label_noise;
    return typeof card === "object" && card !== null ? [{ score: s, card: card as Card }] : [];
  });
  if (noisy.length === 0) {
    return note(
      "No score was computed on runs trained with dataset.label_noise: set it (e.g. dataset.label_noise.rate=0.2) to measure how well each score finds the changed labels.",
    );
  }
  const measured = noisy.filter(({ card }) => card.average_precision !== undefined);
  const rows = measured.map(({ score, card }) => [
    score.type,
    scoreCell(score.id),
    { html: `${escapeHtml(String(card.flipped))} of ${escapeHtml(String(card.samples))}`, className: "num" },
    num(card.average_precision),
    num(card.auroc),
    num(card.recall_hardest_1pct),
    num(card.recall_hardest_5pct),
    num(card.recall_hardest_10pct),
    flagCell(card.label_issue),
  ]);
  const methods = measured.flatMap(({ score, card }) =>
    typeof card.filter_by === "object" && card.filter_by !== null
      ? Object.entries(card.filter_by as Record<string, unknown>).map(([method, flag]) => [
          scoreCell(score.id),
          { html: `<code>${escapeHtml(method)}</code>` },
          flagCell(flag),
        ])
      : [],
  );
  const mixed = noisy
    .filter(({ card }) => card.average_precision === undefined && typeof card.note === "string")
    .map(({ score, card }) => note(`${score.id}: ${String(card.note)}`));
  return [
    '<p class="lead">How well each score finds the training labels that <code>dataset.label_noise</code> changed: a score that ranks the changed samples hardest has average precision and AUROC near 1 and recalls them among its hardest samples. A random score has AUROC 0.5 and average precision equal to the noise rate.</p>',
    rows.length > 0
      ? table(
          [
            "type",
            "score",
            "changed",
            "average precision",
            "AUROC",
            "recall, hardest 1%",
            "hardest 5%",
            "hardest 10%",
            "label_issue precision / recall (flagged)",
          ],
          rows,
        )
      : "",
    methods.length > 0
      ? `<p>ConfidentLearning's <code>filter_by</code> methods on the same out-of-sample probabilities:</p>${table(["score", "filter_by", "precision / recall (flagged)"], methods)}`
      : "",
    ...mixed,
  ].join("");
}

/** Finding the changed labels under controlled label noise. */
export const labelNoiseSection: ReportSection = {
  id: "label-noise",
  title: "Finding the changed labels",
  nav: "Label noise",
  build: async (ctx) => labelNoiseBody(ctx.data),
};
