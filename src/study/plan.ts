import { cpSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { composeGrid, loadGroupConfig } from "../config/compose.js";
import { experimentDir, STUDY_FILES } from "../config/layout.js";
import { aggregatedName, runName } from "../config/naming.js";
import type { RunConfig } from "../config/schema.js";
import { runConfigKeys } from "../experiments/config-keys.js";
import { writeFileAtomicSync } from "../util/atomic.js";
import { ensureDir } from "../util/dirs.js";
import { ConfigError } from "../util/errors.js";
import type { Study } from "./schema.js";

/**
 * Turns a study into concrete work: the baseline grid (one group of seed runs per dataset/model
 * point), the scoring configs (one per seed and one seed ensemble per function and group), and the
 * curriculum grid. Planning writes only the study's generated configs; it trains nothing.
 */

/** One dataset/model configuration of the study with its seed runs. */
export interface StudyGroup {
  /** Aggregated run name (seed as `#`): the group's identity. */
  name: string;
  /** Training override values of this group (the study's `training` with the swept keys fixed). */
  overrides: Record<string, string>;
  /** Baseline run names, one per seed, in seed order. */
  runs: string[];
  /** The seed strings ("T-D") of those runs. */
  seeds: string[];
  config: RunConfig;
  /** Suffix that keeps score ids unique when a study has several groups ("" for one group). */
  tag: string;
}

/** A scoring config the study generates, written to its conf/curriculum/scoring/<id>.yaml. */
export interface StudyScore {
  id: string;
  /** Scoring function type (the output folder under curriculum/). */
  type: string;
  /** The config name the study file used (e.g. "CELoss"). */
  function: string;
  group: string;
  /** True for the ensemble over seeds (the one curriculum training uses). */
  ensemble: boolean;
  config: Record<string, unknown>;
  /** Set for the dev/test scores of the difficulty-aware evaluation. */
  subset?: "dev" | "test";
}

export interface StudyPlan {
  study: Study;
  cwd: string;
  /** <results_dir>/<experiment_id> (absolute). */
  experimentDir: string;
  /** Generated configs (a copy of the project's conf/ plus the study's scoring configs). */
  confDir: string;
  /** Overrides every command of the study gets (results_dir, experiment_id). */
  common: string[];
  groups: StudyGroup[];
  /** Overrides of the baseline training grid. */
  baselineOverrides: string[];
  scores: StudyScore[];
  /** Score id of each group's ensemble for the curriculum scoring function. */
  curriculumScore: Record<string, string>;
  /** Overrides of each group's curriculum training grid. */
  curriculumOverrides: string[][];
  /** Score ids (dev and test subsets) of the difficulty-aware evaluation; empty without one. */
  difficultyScores: string[];
}

function overrideValue(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => String(v)).join(",");
  return String(value);
}

function asOverrides(values: Record<string, string>): string[] {
  return Object.entries(values).map(([k, v]) => `${k}=${v}`);
}

function seedString(seed: number, dataSeed: number): string {
  return `${seed}-${dataSeed}`;
}

/** Builds the plan and writes the generated configs into `<experiment>/study/conf`. */
export async function planStudy(
  study: Study,
  cwd: string,
  projectConf?: string,
  options: { write?: boolean } = {},
): Promise<StudyPlan> {
  const expDir = resolve(cwd, experimentDir(study.results_dir, study.experiment_id));
  const confDir = join(expDir, STUDY_FILES.conf);
  // write: false (a cluster's stage job) reuses the configs the submitting command generated.
  const write = options.write !== false || !existsSync(confDir);
  ensureDir(confDir);
  const localConf = projectConf ? resolve(cwd, projectConf) : join(cwd, "conf");
  if (write && existsSync(localConf) && resolve(localConf) !== confDir)
    cpSync(localConf, confDir, { recursive: true });

  const common = [`results_dir=${study.results_dir}`, `experiment_id=${study.experiment_id}`];
  const training: Record<string, string> = {};
  for (const [key, value] of Object.entries(study.training)) {
    if (["seed", "results_dir", "experiment_id"].includes(key) || key.startsWith("curriculum")) {
      throw new ConfigError(
        `training.${key}`,
        "is set by the study itself (seeds, results_dir, experiment_id, curriculum)",
      );
    }
    training[key] = overrideValue(value);
  }
  const seeds = study.seeds.map((s) => seedString(s, study.data_seed));
  const baselineOverrides = [...asOverrides(training), `seed=${seeds.join(",")}`, ...common];
  const points = await composeGrid<RunConfig>({
    overrides: baselineOverrides,
    configPath: confDir,
    cwd,
    log: null,
    keys: runConfigKeys,
  });
  const groups = groupBaseline(points, training);

  const scores: StudyScore[] = [];
  const curriculumScore: Record<string, string> = {};
  for (const group of groups) {
    for (const [fn, params] of Object.entries(study.scoring)) {
      const generated = scoringConfigs(fn, params ?? {}, group, study, confDir, cwd);
      scores.push(...generated);
      if (fn === study.curriculum.scoring) {
        const ensemble = generated.find((s) => s.ensemble);
        if (ensemble) curriculumScore[group.name] = ensemble.id;
      }
    }
    if (study.difficulty) scores.push(...difficultyConfigs(study, group, scores));
    if (!curriculumScore[group.name]) {
      throw new ConfigError(
        "curriculum.scoring",
        `must name one of the study's scoring functions (${Object.keys(study.scoring).join(", ")}), got '${study.curriculum.scoring}'`,
      );
    }
  }
  for (const score of write ? scores : []) {
    writeFileAtomicSync(join(confDir, "curriculum", "scoring", `${score.id}.yaml`), stringify(score.config));
  }

  const c = study.curriculum;
  const curriculumOverrides = groups.map((group) => [
    ...asOverrides(group.overrides),
    `curriculum=${c.orderings.join(",")}`,
    `curriculum/scoring=${curriculumScore[group.name]}`,
    `curriculum/pacing=${c.pacing}`,
    `curriculum/sampling=${c.sampling}`,
    `curriculum.pacing.initial_size=${c.initial_size}`,
    `curriculum.pacing.final_iteration=${c.final_iteration}`,
    `seed=${seeds.join(",")}`,
    ...common,
  ]);
  return {
    study,
    cwd,
    experimentDir: expDir,
    confDir,
    common,
    groups,
    baselineOverrides,
    scores,
    curriculumScore,
    curriculumOverrides,
    difficultyScores: scores.filter((s) => s.subset !== undefined).map((s) => s.id),
  };
}

/**
 * The dev and test scores of the difficulty-aware evaluation: the study's `difficulty` function as a
 * seed ensemble of the group's baseline runs on each subset (`<id>-dev`, `<id>-test`).
 */
function difficultyConfigs(study: Study, group: StudyGroup, scores: readonly StudyScore[]): StudyScore[] {
  const fn = study.difficulty as string;
  const ensemble = scores.find((s) => s.function === fn && s.group === group.name && s.ensemble);
  if (!ensemble || !("run_name" in ensemble.config)) {
    throw new ConfigError(
      "difficulty",
      `must name a scoring function of the study that reads training runs (run_name), got '${fn}'`,
    );
  }
  return (["dev", "test"] as const).map((subset) => ({
    ...ensemble,
    id: `${ensemble.id}-${subset}`,
    ensemble: false,
    subset,
    config: { ...ensemble.config, id: `${ensemble.id}-${subset}`, subset },
  }));
}

/** The study's scoring key whose type is CVLoss, if any (ConfidentLearning reuses its folds). */
export function cvlossFunction(study: Study): string | undefined {
  return Object.keys(study.scoring).find((fn) => fn === "CVLoss");
}

/** Groups the baseline grid points by everything but the seed. */
function groupBaseline(
  points: { overrides: string[]; config: RunConfig }[],
  training: Record<string, string>,
): StudyGroup[] {
  const byName = new Map<string, StudyGroup>();
  for (const point of points) {
    const run = runName(point.config);
    const name = aggregatedName(run, ["seed"]);
    let group = byName.get(name);
    if (!group) {
      const overrides = { ...training };
      for (const o of point.overrides) {
        const eq = o.indexOf("=");
        const key = o.slice(0, eq);
        if (key !== "seed" && key in overrides) overrides[key] = o.slice(eq + 1);
      }
      group = { name, overrides, runs: [], seeds: [], config: point.config, tag: "" };
      byName.set(name, group);
    }
    group.runs.push(run);
    group.seeds.push(String(point.config.seed));
  }
  const groups = [...byName.values()];
  if (groups.length > 1) {
    const used = new Set<string>();
    for (const g of groups) {
      let tag = `${g.config.dataset.id}-${g.config.model.id}`;
      for (let k = 2; used.has(tag); k++) tag = `${g.config.dataset.id}-${g.config.model.id}-${k}`;
      used.add(tag);
      g.tag = `-${tag}`;
    }
  }
  return groups;
}

/**
 * The scoring configs of one function for one group: one per seed and the seed ensemble (whose id is
 * the plain function name), filled in from the group's runs by what the function's config asks for.
 */
function scoringConfigs(
  fn: string,
  params: Record<string, unknown>,
  group: StudyGroup,
  study: Study,
  confDir: string,
  cwd: string,
): StudyScore[] {
  const base = loadGroupConfig("curriculum/scoring", fn, confDir, cwd) as Record<string, unknown>;
  const type = String(base.type ?? fn);
  const id = `${fn}${group.tag}`;
  // The study fills what the function needs from the group's runs; the user's params win.
  const make = (
    scoreId: string,
    fill: Record<string, unknown>,
    ensemble: boolean,
    user = params,
  ): StudyScore => ({
    id: scoreId,
    type,
    function: fn,
    group: group.name,
    ensemble,
    config: { ...base, ...fill, ...user, id: scoreId, type },
  });
  const cfg = group.config;
  const perSeed = (
    fill: (run: string, seed: string) => Record<string, unknown>,
    all: Record<string, unknown>,
  ) => [
    ...group.runs.map((run, i) =>
      make(`${id}-s${study.seeds[i]}`, fill(run, group.seeds[i] as string), false),
    ),
    make(id, all, true),
  ];
  // A function that reads the group's trained runs (ConfidentLearning's run_name takes imported
  // runs only: it gets CVLoss folds below).
  if ("run_name" in base && !("cvloss" in base)) {
    return perSeed((run) => ({ run_name: run }), { run_name: group.runs });
  }
  if ("cvloss" in base && !("setup" in params) && cvlossFunction(study)) {
    // ConfidentLearning: the held-out predictions of the study's CVLoss folds (no extra training).
    const cv = `${cvlossFunction(study)}${group.tag}`;
    return perSeed((_run, _seed) => ({}), {}).map((s, i) =>
      s.ensemble
        ? { ...s, config: { ...s.config, cvloss: cv } }
        : { ...s, config: { ...s.config, cvloss: `${cv}-s${study.seeds[i]}` } },
    );
  }
  if ("setup" in base) {
    // CVLoss: train the group's own configuration on the folds; the ensemble sweeps the seeds.
    const { setup: userSetup, ...rest } = params;
    const setup = {
      ...(base.setup as Record<string, unknown>),
      dataset: cfg.dataset.id,
      model: cfg.model.id,
      optimizer: cfg.optimizer.id,
      learning_rate: cfg.learning_rate,
      scheduler: cfg.scheduler.id,
      batch_size: cfg.batch_size,
      inference_batch_size: cfg.inference_batch_size,
      training_type: cfg.training_type,
      iterations: cfg.iterations,
      eval_frequency: cfg.eval_frequency,
      save_frequency: cfg.save_frequency,
      ...((userSetup as Record<string, unknown> | undefined) ?? {}),
    };
    const withSeed = (seed: string | string[]) => ({ ...rest, setup: { ...setup, seed } });
    return [
      ...group.seeds.map((seed, i) => make(`${id}-s${study.seeds[i]}`, withSeed(seed), false, {})),
      make(id, withSeed(group.seeds), true, {}),
    ];
  }
  if ("model" in base && "dataset" in base) {
    return perSeed((run) => ({ model: run, dataset: cfg.dataset.id }), {
      model: group.runs,
      dataset: cfg.dataset.id,
    });
  }
  if ("dataset" in base) {
    // Functions that read no run (Random, Predefined): one score on the study's split.
    const fill: Record<string, unknown> = { dataset: cfg.dataset.id };
    if ("seed" in base && !("seed" in params)) fill.seed = study.seeds[0];
    return [make(id, fill, true)];
  }
  throw new ConfigError(
    `scoring.${fn}`,
    "the study does not know how to fill this scoring config (it has neither run_name, setup, model nor dataset)",
  );
}
