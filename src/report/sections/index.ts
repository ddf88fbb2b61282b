import type { ReportSection } from "../context.js";
import { classesSection } from "./classes.js";
import { comparisonSection } from "./comparison.js";
import { difficultySection } from "./difficulty.js";
import { fusionSection } from "./fusion.js";
import { labelNoiseSection } from "./label-noise.js";
import { pacingSection } from "./pacing.js";
import { robustnessSection } from "./robustness.js";
import { runsSection } from "./runs.js";
import { scoresSection } from "./scores.js";
import { trainingSection } from "./training.js";
import { verdictSection } from "./verdict.js";

/**
 * The report's sections, in page order (the navigation follows it). A new section is a file here
 * exporting a `ReportSection`, added to this list.
 */
export const REPORT_SECTIONS: readonly ReportSection[] = [
  verdictSection,
  comparisonSection,
  classesSection,
  trainingSection,
  pacingSection,
  scoresSection,
  robustnessSection,
  labelNoiseSection,
  fusionSection,
  difficultySection,
  runsSection,
];
