import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { PACKAGED_CONFIG_DIR } from "../config/package.js";
import { ConfigError, DataError } from "../util/errors.js";
import { readYaml } from "../util/yaml-io.js";
import { planStudy, type StudyPlan } from "./plan.js";
import { type Study, StudySchema } from "./schema.js";
import { runStudy, type StudyRunOptions, type StudyRunResult } from "./stages.js";

export { fuseStudyGroup, studyFusionNames } from "./fusion.js";
export { planStudy, type StudyGroup, type StudyPlan, type StudyScore } from "./plan.js";
export { ORDERINGS, type Study, StudySchema } from "./schema.js";
export { runStudy, type Stage, type StudyRunOptions, type StudyRunResult, studyStages } from "./stages.js";

/** The packaged default study (Digits, FFNN, 3 seeds, seven scoring functions, the curriculum comparison). */
export const DEFAULT_STUDY_FILE = resolve(PACKAGED_CONFIG_DIR, "study.yaml");

/** Reads and validates a study file; errors name the file and the key. */
export function loadStudy(path: string): Study {
  if (!existsSync(path)) throw new DataError(`${path}: study file not found`);
  const raw = readYaml<unknown>(path) ?? {};
  const parsed = StudySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join(".") || "<root>";
    throw new ConfigError(key, issue?.message ?? "invalid study", path);
  }
  return parsed.data;
}

export interface StudyOptions extends StudyRunOptions {
  /** Study file; default the packaged default study. */
  file?: string;
  cwd?: string;
  /** The project's config folder copied into the study's generated configs (default <cwd>/conf). */
  configPath?: string;
}

/** `curricula study`: plans and runs a whole study, resuming where an earlier run stopped. */
export async function study(options: StudyOptions = {}): Promise<StudyRunResult & { plan: StudyPlan }> {
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ? resolve(cwd, options.file) : DEFAULT_STUDY_FILE;
  const plan = await planStudy(loadStudy(file), cwd, options.configPath);
  const result = await runStudy(plan, options);
  return { ...result, plan };
}
