import { existsSync } from "node:fs";
import { join } from "node:path";
import { createRunDataset } from "../assembly/review.js";
import { experimentDir, REPORT_FILE } from "../config/layout.js";
import { escapeHtml, page, section } from "../plots/html.js";
import { writeFileAtomic } from "../util/atomic.js";
import { DataError } from "../util/errors.js";
import { type ExperimentData, groupRunsByCondition, readExperiment } from "./collect.js";
import { Figures, type ReportContext, type ReportOptions } from "./context.js";
import { REPORT_SECTIONS } from "./sections/index.js";
import { trackingMetricOf } from "./sections/shared.js";

/**
 * The experiment report: one self-contained HTML file (inline SVG charts, inline CSS, images as data
 * URIs, no scripts) at `<results_dir>/<experiment_id>/report.html`. Its sections are a registry
 * (src/report/sections/, one file each); each degrades to a note when its inputs are missing, so a
 * report can be written at any stage of a study.
 */

export type { DatasetLoader, ReportOptions } from "./context.js";
export { correlationTitle, splitSeedScores } from "./sections/scores.js";
export { byTrainingType, formatMeanStd, orderMetrics } from "./sections/shared.js";

/** Builds the report HTML from experiment data already read. */
export async function buildReport(data: ExperimentData, options: ReportOptions = {}): Promise<string> {
  const problems = [...data.problems];
  const figs = new Figures(problems);
  const ctx: ReportContext = {
    data,
    options,
    groups: groupRunsByCondition(data.runs),
    tracking: trackingMetricOf(data.runs),
    figs,
    render: (spec, caption) => figs.render(spec, caption),
    problems,
    loader: options.datasetLoader ?? createRunDataset,
    datasets: new Map(),
  };
  // One after the other: figures are numbered in page order.
  const sections: string[] = [];
  for (const s of REPORT_SECTIONS) {
    const built = await s.build(ctx);
    const { title, body } = typeof built === "string" ? { title: s.title, body: built } : built;
    sections.push(section(s.id, title, body));
  }
  const nav: [string, string][] = REPORT_SECTIONS.map((s) => [s.id, s.nav]);
  if (problems.length > 0) {
    sections.push(
      section(
        "problems",
        "Problems",
        `<ul>${problems.map((p) => `<li>${escapeHtml(p)}</li>`).join("")}</ul>`,
      ),
    );
    nav.push(["problems", "Problems"]);
  }
  const now = options.now ?? new Date();
  const finished = data.runs.filter((r) => r.finished).length;
  const meta = [
    `results: <code>${escapeHtml(data.dir)}</code>`,
    `${data.runs.length} training runs (${finished} finished)`,
    `${data.scores.length} score files`,
    `generated ${escapeHtml(now.toISOString().replace("T", " ").slice(0, 19))} UTC`,
  ].join(" · ");
  return page({
    title: `curricula report: ${data.experimentId}`,
    meta,
    nav,
    sections,
    footer: "Written by curricula. Self-contained: charts are inline SVG, images are data URIs.",
  });
}

/**
 * Writes the report of `<resultsDir>/<experimentId>` and returns its path. Throws a DataError only if
 * the experiment folder does not exist; missing parts become notes in the page.
 */
export async function writeReport(
  resultsDir: string,
  experimentId: string,
  options: ReportOptions = {},
): Promise<string> {
  const dir = experimentDir(resultsDir, experimentId);
  if (!existsSync(dir)) {
    throw new DataError(
      `${dir}: experiment folder not found (expected <results_dir>/<experiment_id> with a training/ folder)`,
    );
  }
  const data = readExperiment(resultsDir, experimentId);
  const html = await buildReport(data, options);
  const outPath = options.outPath ?? join(dir, REPORT_FILE);
  await writeFileAtomic(outPath, html);
  return outPath;
}
