import { lineChart } from "../plots/charts.js";
import type { VegaLiteSpec } from "../plots/render.js";
import type { PacePoint } from "../results/run-folder.js";

/** One point of a pace curve: from `iteration` on, `dataset_size` samples are used. */

/** Step plot of one run's pace (x: epochs or steps, y: dataset size), as the reference's pace plot. */
export function paceSpec(points: readonly PacePoint[], xTitle: string, title = "Pace"): VegaLiteSpec {
  return lineChart({
    data: points.map((p) => ({ ...p })),
    x: "iteration",
    y: "dataset_size",
    title,
    xTitle,
    yTitle: "dataset size",
    yDomain: [0, Math.max(1, ...points.map((p) => p.dataset_size))],
    step: true,
  });
}

/** Step plot of several runs' pace, one line per run. */
export function paceSummarySpec(
  series: ReadonlyArray<{ run: string; points: readonly PacePoint[] }>,
  xTitle: string,
): VegaLiteSpec {
  return lineChart({
    data: series.flatMap(({ run, points }) => points.map((p) => ({ run, ...p }))),
    x: "iteration",
    y: "dataset_size",
    color: "run",
    colorTitle: "run",
    title: "Pace of curriculum runs",
    xTitle,
    yTitle: "dataset size",
    yDomain: [0, Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.dataset_size)))],
    step: true,
  });
}
