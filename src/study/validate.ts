import { composeGrid } from "../config/compose.js";
import type { RunConfig } from "../config/schema.js";
import { checkRunConfig } from "../experiments/check-run.js";
import { runConfigKeys } from "../experiments/config-keys.js";
import { CurriculumScoreManager, type ScoreManagerConfig } from "../scoring/manager.js";
import { ScoreConfigSchema } from "../scoring/score.js";
import { CurriculaError } from "../util/errors.js";
import type { StudyPlan } from "./plan.js";

/**
 * Checks a whole planned study before any stage runs (and for `study --dry-run`): every stage's
 * configs are composed as the stage will compose them — the baseline and every curriculum grid
 * point with their dataset, optimiser, scheduler and pacing, every scoring config with its
 * parameters — so a typo in the study file (`pacing: Linaer`) fails at once, not hours later at
 * the stage that reads it. Every problem is listed, each with the stage it would have stopped.
 */
export async function validateStudyPlan(plan: StudyPlan, file: string): Promise<void> {
  const { cwd, confDir } = plan;
  const problems: string[] = [];
  const check = async (stage: string, run: () => Promise<void> | void) => {
    try {
      await run();
    } catch (error) {
      if (!(error instanceof CurriculaError)) throw error;
      problems.push(`${stage}: ${error.message}`);
    }
  };
  for (const group of plan.groups) await check("train-baseline", () => checkRunConfig(group.config));

  const byFunction = new Map<string, string[]>();
  for (const s of plan.scores) byFunction.set(s.function, [...(byFunction.get(s.function) ?? []), s.id]);
  for (const [fn, ids] of byFunction) {
    await check(`score-${fn} (scoring.${fn})`, async () => {
      // What the stage's `curricula curriculum` child composes, then each scoring function built.
      const points = await composeGrid<ScoreManagerConfig>({
        configName: "curriculum",
        configPath: confDir,
        cwd,
        overrides: [`curriculum/scoring=${ids.join(",")}`, ...plan.common, "correlation=null"],
        schema: ScoreConfigSchema,
        partialCurriculumFilter: false,
        jobDir: (config) => String((config.curriculum as { scoring?: { id?: unknown } }).scoring?.id),
        log: null,
      });
      for (const point of points)
        await CurriculumScoreManager.create(point.config, { configPath: confDir, cwd });
    });
  }

  for (const [i, overrides] of plan.curriculumOverrides.entries()) {
    const stage = plan.groups.length > 1 ? `train-curricula${plan.groups[i]?.tag ?? ""}` : "train-curricula";
    await check(`${stage} (curriculum)`, async () => {
      const points = await composeGrid<RunConfig>({
        overrides,
        configPath: confDir,
        cwd,
        log: null,
        keys: runConfigKeys,
      });
      for (const point of points) checkRunConfig(point.config);
    });
  }
  if (problems.length > 0) {
    throw new CurriculaError(
      `${file}: the study does not validate; nothing was run. ${problems.length} problem(s):\n  ${problems.join("\n  ")}`,
    );
  }
}
