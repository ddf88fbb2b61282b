import { findConfigFile, loadGroupConfig } from "../config/compose.js";
import { configSearchPath } from "../config/package.js";
import type { PacingConfig } from "../config/schema.js";
import { renderPlot } from "../plots/render.js";
import { UsageError } from "../util/errors.js";
import { paceSpec } from "./pace-plot.js";
import { PACING_TYPES, pacingClass, resolvePacing } from "./pacing/registry.js";

/** A pacing function to preview (`curricula pace`): its arguments and the training run it paces. */
export interface PacePreviewOptions {
  /** Fraction of the training set at iteration 0, in (0, 1]. */
  initialSize: number;
  /** Fraction of the iterations at which the full set is reached, in [0, 1]. */
  finalIteration: number;
  /** Total training iterations (epochs or steps). */
  iterations: number;
  /** Number of training samples. */
  datasetSize: number;
  /** Extra pacing arguments by key; a value that reads as a number is one. */
  args?: Readonly<Record<string, string>>;
  /** Local config folder searched before the packaged configs (default: conf). */
  configPath?: string;
  /** Also write a step plot to `<plot>.svg` and `<plot>.png` (a .svg/.png ending is dropped). */
  plot?: string;
}

/**
 * The pacing config a preview of `name` uses: the config `curriculum/pacing/<name>.yaml` (local
 * conf/ first, so custom pacings work), or a built-in type of that name, with the preview's sizes
 * and extra arguments.
 */
export function paceConfigFor(
  name: string,
  options: PacePreviewOptions,
  cwd: string = process.cwd(),
): PacingConfig {
  const searchPath = configSearchPath(options.configPath, cwd);
  let base: Record<string, unknown>;
  if (findConfigFile(searchPath, "curriculum/pacing", name)) {
    base = loadGroupConfig("curriculum/pacing", name, options.configPath, cwd);
  } else if (pacingClass(name)) {
    base = { id: name, type: name };
  } else {
    throw new UsageError(
      `unknown pacing "${name}": no config curriculum/pacing/${name}.yaml and no built-in type of that name (built in: ${PACING_TYPES.join(", ")})`,
    );
  }
  if (base.id === "None" || base.type === "None") {
    throw new UsageError(`pacing "${name}" is the no-curriculum placeholder; choose a pacing function`);
  }
  const config: Record<string, unknown> = {
    ...base,
    initial_size: options.initialSize,
    final_iteration: options.finalIteration,
  };
  for (const [key, text] of Object.entries(options.args ?? {})) {
    const value = Number(text);
    config[key] = text.trim() !== "" && Number.isFinite(value) ? value : text;
  }
  return config as PacingConfig;
}

/** A pacing function's training subset size at every iteration 0..T, and the plot if one was asked for. */
export interface PacePreview {
  sizes: number[];
  plot: { svg: string; png: string } | null;
}

/** Computes the schedule of the pacing function `name` (see {@link paceConfigFor}) and writes its plot. */
export async function previewPace(
  name: string,
  options: PacePreviewOptions,
  cwd: string = process.cwd(),
): Promise<PacePreview> {
  const config = paceConfigFor(name, options, cwd);
  const pacing = await resolvePacing(config, options.iterations, options.datasetSize, cwd);
  const sizes = pacing.schedule();
  let plot: PacePreview["plot"] = null;
  if (options.plot) {
    const base = options.plot.replace(/\.(svg|png)$/i, "");
    const points = sizes.map((dataset_size, iteration) => ({ iteration, dataset_size }));
    const title = `${name} pacing (s=${options.initialSize}, f=${options.finalIteration}, N=${options.datasetSize})`;
    plot = await renderPlot(paceSpec(points, "iteration", title), base);
  }
  return { sizes, plot };
}
