import type { DatasetConfig } from "../config/schema.js";
import type { Dataset } from "../data/types.js";
import { figure, note } from "../plots/html.js";
import { renderSvg, type VegaLiteSpec } from "../plots/render.js";
import type { ExperimentData, RunGroup } from "./collect.js";

/**
 * What the report's sections share: the options, the experiment data read once, the figure
 * counter, and the section type of the registry (src/report/sections/).
 */

/** Rebuilds a dataset from a run's `dataset` config (for thumbnails and class names). */
export type DatasetLoader = (config: DatasetConfig) => Promise<Dataset>;

export interface ReportOptions {
  /** Output file; default `<results_dir>/<experiment_id>/report.html`. */
  outPath?: string;
  /** Thumbnails per side (easiest, hardest) and class; 0 turns them off. Default 4. */
  thumbnails?: number;
  /** How to rebuild a dataset; default `createDataset` from src/data. */
  datasetLoader?: DatasetLoader;
  /** Time printed in the header (fixed in tests). */
  now?: Date;
}

/** Renders a chart into an inline figure (the report's figure counter and error handling). */
export type RenderFigure = (spec: VegaLiteSpec, caption: string) => Promise<string>;

export class Figures {
  private count = 0;
  constructor(readonly problems: string[]) {}

  /** Renders a chart to an inline figure; a failure becomes a note, not a broken page. */
  async render(spec: VegaLiteSpec, caption: string): Promise<string> {
    const id = `fig${++this.count}`;
    try {
      return figure(await renderSvg(spec), caption, id);
    } catch (error) {
      this.problems.push(`${caption}: ${(error as Error).message}`);
      return note(`Could not draw "${caption}": ${(error as Error).message}`, "warn");
    }
  }
}

/** Everything a section is built from. */
export interface ReportContext {
  data: ExperimentData;
  options: ReportOptions;
  /** The runs grouped by condition. */
  groups: RunGroup[];
  /** The tracking metric (the runs' config; default accuracy). */
  tracking: string;
  figs: Figures;
  /** Renders a chart into an inline figure (through `figs`). */
  render: RenderFigure;
  /** Problems found while reading or drawing, listed at the end of the report. */
  problems: string[];
  loader: DatasetLoader;
  /** Datasets rebuilt so far (by their config), shared by the sections. */
  datasets: Map<string, Promise<Dataset>>;
}

/** One section of the report: its anchor, heading, label in the navigation, and contents. */
export interface ReportSection {
  id: string;
  title: string;
  nav: string;
  /** The section's HTML below its heading, or another heading with it (a section with no data). */
  build(ctx: ReportContext): Promise<string | { title: string; body: string }>;
}
