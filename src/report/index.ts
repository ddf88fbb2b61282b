/**
 * Analysis: plots (vega-lite → vega → SVG → resvg PNG, no browser needed) and the self-contained
 * HTML report of an experiment.
 */

export {
  type BarChartOptions,
  barChart,
  barRows,
  COLORBLIND,
  type FacetHistogramOptions,
  facetHistogram,
  fieldRef,
  groupedBins,
  type HeatmapOptions,
  type HistogramOptions,
  heatmap,
  histogram,
  type LineChartOptions,
  lineChart,
  type RidgePlotOptions,
  ridgePlot,
  sortLabels,
} from "../plots/charts.js";
export { encodePng, imageToPixels } from "../plots/png.js";
export { CHART_FONT, renderPlot, renderSvg, svgToPng, type VegaLiteSpec } from "../plots/render.js";
export { binCounts, binEdges, extent, gaussianKde, linspace, meanStd } from "../plots/stats.js";
export { type MatrixData, readMatrix } from "../results/correlation-table.js";
export {
  CONDITIONS,
  type Condition,
  conditionOf,
  type ExperimentData,
  groupRunsByCondition,
  type RunData,
  type RunGroup,
  readExperiment,
  readScore,
  type ScoreData,
} from "./collect.js";
export {
  buildReport,
  type DatasetLoader,
  formatMeanStd,
  orderMetrics,
  type ReportOptions,
  writeReport,
} from "./report.js";
export { extremesPerClass } from "./thumbnails.js";
