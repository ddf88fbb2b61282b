import { join } from "node:path";
import { facetHistogram, heatmap, histogram, ridgePlot } from "../plots/charts.js";
import { renderPlot } from "../plots/render.js";
import { linspace } from "../plots/stats.js";

/** Bin edges 0, 0.05, …, 1 of rank histograms (20 bins of width 0.05). */
const RANK_EDGES = linspace(0, 1, 21);

/**
 * Per-score plots (aucurriculum's score plots) as SVG + PNG in `<dir>/`: histogram of `mean`, count and
 * percent of `ranks` per class, ridge (density) of `ranks` per class. Returns the written base paths.
 */
export async function plotScore(
  dir: string,
  scoreId: string,
  mean: ArrayLike<number>,
  ranks: ArrayLike<number>,
  classes: readonly string[],
): Promise<string[]> {
  const specs = {
    histogram: histogram({
      values: mean,
      bins: 20,
      title: `${scoreId} Histogram`,
      xTitle: "mean",
      yTitle: "count",
    }),
    count_per_class: facetHistogram({
      values: ranks,
      groups: classes,
      bins: RANK_EDGES,
      stat: "count",
      title: `${scoreId} Count per Class`,
    }),
    percent_per_class: facetHistogram({
      values: ranks,
      groups: classes,
      bins: RANK_EDGES,
      stat: "percent",
      title: `${scoreId} Percent per Class`,
    }),
    ridge_per_class: ridgePlot({
      values: ranks,
      groups: classes,
      title: `${scoreId} Ridge per Class`,
      xTitle: "ranks",
      domain: [0, 1],
      bwAdjust: 0.5,
    }),
  };
  const written: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const base = join(dir, name);
    await renderPlot(spec, base);
    written.push(base);
  }
  return written;
}

/** Annotated heatmap of a correlation matrix (`<basePath>.svg/.png`). */
export async function plotCorrelation(
  basePath: string,
  labels: readonly string[],
  matrix: Float64Array,
  method: string,
): Promise<void> {
  const m = labels.length;
  const rows = Array.from({ length: m }, (_, i) => matrix.subarray(i * m, (i + 1) * m));
  await renderPlot(
    heatmap({
      matrix: rows,
      labels,
      title: `${method[0]?.toUpperCase()}${method.slice(1)} correlation of per-sample scores`,
    }),
    basePath,
  );
}
