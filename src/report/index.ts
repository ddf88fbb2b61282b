/**
 * The self-contained HTML report of an experiment: what it reads from the results tree
 * (./collect.ts), its sections and page (./report.ts), the per-class thumbnails. Charts come from
 * src/plots.
 */

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
