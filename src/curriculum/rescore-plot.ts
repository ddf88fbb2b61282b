import { lineChart } from "../plots/charts.js";
import type { VegaLiteSpec } from "../plots/render.js";
import type { ScoreDriftRow } from "../results/score-drift.js";

/**
 * The score drift of a re-scored curriculum run: the Spearman correlation of each re-scoring with
 * the snapshot before it (the first with the score file), over the iteration it was made at; null
 * when there is nothing to draw (no re-scoring, or only undefined correlations).
 */
export function driftSpec(
  rows: readonly ScoreDriftRow[],
  xTitle: string,
  title: string,
): VegaLiteSpec | null {
  const points = rows
    .filter((r) => Number.isFinite(r.spearman))
    .map((r) => ({ iteration: r.iteration, spearman: r.spearman }));
  if (points.length === 0) return null;
  return lineChart({
    data: points,
    x: "iteration",
    y: "spearman",
    title,
    xTitle,
    yTitle: "Spearman with the previous snapshot",
    yDomain: [Math.min(0, ...points.map((p) => p.spearman)), 1],
    points: true,
    integerX: true,
  });
}
