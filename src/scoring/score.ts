import { join } from "node:path";
import { z } from "zod";
import { composeGrid } from "../config/compose.js";
import { scoreTypeDir } from "../config/layout.js";
import { PlottingConfigSchema } from "../config/schema.js";
import { CurriculaError, UsageError } from "../util/errors.js";
import { writeLine } from "../util/progress.js";
import {
  CurriculumScoreManager,
  ScoreBusyError,
  type ScoreManagerConfig,
  type ScorePostprocessResult,
} from "./manager.js";
import { isPlaceholderScoring } from "./registry.js";

/** Schema of a composed scoring config (`conf/curriculum.yaml`); scoring parameters are checked by their class. */
export const ScoreConfigSchema = z
  .object({
    results_dir: z.string().default("results"),
    experiment_id: z.string().min(1),
    batch_size: z.number().int().positive().nullable().optional(),
    progress_bar: z.boolean().default(true),
    curriculum: z.object({ scoring: z.record(z.string(), z.unknown()) }).passthrough(),
    correlation: z
      .record(z.string(), z.union([z.literal("all"), z.array(z.string())]))
      .nullable()
      .default({ correlation_matrix: "all" }),
    correlation_method: z.enum(["spearman", "kendall", "pearson"]).default("spearman"),
    plots: z.boolean().default(true),
    /** Plot settings (the `plotting` group). */
    plotting: PlottingConfigSchema.optional(),
    /** Cluster resources when scoring on SLURM (checked by its executor). */
    slurm: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export interface ScoreOptions {
  /** `key=value` overrides, e.g. `["curriculum/scoring=CELoss,Random", "curriculum.scoring.run_name=..."]`. */
  overrides?: readonly string[];
  /** Entry config name (default "curriculum"). */
  configName?: string;
  /** Local config folder (default `<cwd>/conf`). */
  configPath?: string;
  cwd?: string;
  log?: (line: string) => void;
  /**
   * Recompute a score id whose existing files were made from another config or other inputs
   * (refused otherwise); the old files are kept under `<type>/_replaced/`.
   */
  force?: boolean;
}

/**
 * Computes difficulty scores as `curricula curriculum` does: composes the entry config with its sweep
 * over `curriculum/scoring`, then runs each scoring config (preprocess → run → postprocess).
 */
export async function score(
  options: ScoreOptions = {},
): Promise<{ id: string; type: string; result: ScorePostprocessResult }[]> {
  const points = await composeGrid<ScoreManagerConfig>({
    configName: options.configName ?? "curriculum",
    configPath: options.configPath,
    overrides: options.overrides,
    cwd: options.cwd,
    schema: ScoreConfigSchema,
    partialCurriculumFilter: false,
    // One score file per id: two grid points writing the same <type>/<id>.csv must be identical.
    jobDir: (config) => {
      const scoring = ((config.curriculum as { scoring?: Record<string, unknown> } | undefined)?.scoring ??
        {}) as Record<string, unknown>;
      const id = String(scoring.id);
      const type = typeof scoring.type === "string" ? scoring.type : undefined;
      return join(
        scoreTypeDir(String(config.results_dir ?? "results"), String(config.experiment_id), { type, id }),
        id,
      );
    },
    log: options.log ?? null,
  });
  if (points.length === 0 || points.some((p) => isPlaceholderScoring(p.config.curriculum?.scoring))) {
    throw new UsageError("No scoring function provided.");
  }
  const out: { id: string; type: string; result: ScorePostprocessResult }[] = [];
  const busy: ScoreBusyError[] = [];
  const log = options.log ?? writeLine;
  for (const point of points) {
    const manager = await CurriculumScoreManager.create(point.config, {
      configPath: options.configPath,
      cwd: options.cwd,
      log: options.log,
      force: options.force,
    });
    let result: ScorePostprocessResult;
    try {
      result = await manager.execute();
    } catch (error) {
      // As a busy training run: reported, and the other scores go on.
      if (!(error instanceof ScoreBusyError)) throw error;
      log(`busy   ${error.message}`);
      busy.push(error);
      continue;
    }
    const scoring = point.config.curriculum.scoring;
    out.push({ id: String(scoring.id), type: String(scoring.type ?? scoring.id), result });
  }
  if (busy.length > 0) {
    throw new CurriculaError(
      `${busy.length} score(s) busy elsewhere, not computed here: ${busy.map((b) => b.score).join(", ")} ` +
        "(another process is computing them; run this again once it finished: finished scores are reused)",
    );
  }
  return out;
}
