import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { PACKAGED_CONFIG_DIR } from "../config/package.js";
import { parseConfig } from "../config/parse.js";
import { DataError } from "../util/errors.js";
import { readYaml } from "../util/yaml-io.js";
import { planStudy, type StudyPlan } from "./plan.js";
import { type Study, StudySchema } from "./schema.js";
import { runStage, runStudy, type StudyRunOptions, type StudyRunResult } from "./stages.js";
import { validateStudyPlan } from "./validate.js";

export { fuseStudyGroup, studyFusionNames } from "./fusion-groups.js";
export { planStudy, type StudyGroup, type StudyPlan, type StudyScore } from "./plan.js";
export { type Study, StudySchema } from "./schema.js";
export {
  isStageDone,
  runStage,
  runStudy,
  type Stage,
  type StudyRunOptions,
  type StudyRunResult,
  studyStages,
} from "./stages.js";

/** The packaged default study (Digits, FFNN, 3 seeds, seven scoring functions, the curriculum comparison). */
export const DEFAULT_STUDY_FILE = resolve(PACKAGED_CONFIG_DIR, "study.yaml");

/** Reads and validates a study file; errors name the file and the key. */
export function loadStudy(path: string): Study {
  if (!existsSync(path)) throw new DataError(`${path}: study file not found`);
  const raw = readYaml<unknown>(path) ?? {};
  return parseConfig(StudySchema, raw, { file: path });
}

export interface StudyOptions extends StudyRunOptions {
  /** Study file; default the packaged default study. */
  file?: string;
  cwd?: string;
  /** The project's config folder copied into the study's generated configs (default <cwd>/conf). */
  configPath?: string;
  /** Where the stages run: here (default), as SLURM jobs, or on a BullMQ worker pool. */
  executor?: "local" | "slurm" | "bullmq";
  /** slurm: wait for the submitted jobs. */
  wait?: boolean;
  /** bullmq: the Redis URL and queue. */
  redis?: string;
  queue?: string;
  /** Run only this stage (what a cluster's stage job runs) with the configs planned before. */
  stage?: string;
}

/** `curricula study`: plans and runs a whole study, resuming where an earlier run stopped. */
export async function study(options: StudyOptions = {}): Promise<StudyRunResult & { plan: StudyPlan }> {
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ? resolve(cwd, options.file) : DEFAULT_STUDY_FILE;
  const loaded = loadStudy(file);
  if (options.executor === "slurm" && !options.dryRun) {
    // Validated before planning writes the study's configs.
    const { parseSlurmSettings } = await import("../experiments/executors/slurm-script.js");
    const { checkPartitions } = await import("../experiments/executors/slurm-commands.js");
    checkPartitions([parseSlurmSettings(loaded.slurm, file).partition], file);
  }
  if (options.executor === "bullmq" && !options.dryRun) {
    const { checkRedis, redisUrl } = await import("../experiments/executors/bullmq.js");
    await checkRedis(redisUrl(options.redis));
  }
  const plan = await planStudy(loaded, cwd, options.configPath, { write: options.stage === undefined });
  // Every stage's configs are checked before the first one runs (a stage job was checked when submitted).
  if (options.stage === undefined) await validateStudyPlan(plan, file);
  if (options.stage !== undefined) {
    await runStage(plan, options.stage, options);
    return { stages: [{ name: options.stage, status: "done" }], report: null, plan };
  }
  if ((options.executor === "slurm" || options.executor === "bullmq") && !options.dryRun) {
    const { runClusterStudy } = await import("./cluster.js");
    const { redisUrl } = await import("../experiments/executors/bullmq.js");
    const result = await runClusterStudy(plan, {
      executor: options.executor,
      file: options.file ? file : null,
      ...(options.configPath ? { configPath: resolve(cwd, options.configPath) } : {}),
      ...(options.wait ? { wait: true } : {}),
      ...(options.executor === "bullmq" ? { redis: redisUrl(options.redis) } : {}),
      ...(options.queue ? { queue: options.queue } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    return { ...result, plan };
  }
  const result = await runStudy(plan, options);
  return { ...result, plan };
}
