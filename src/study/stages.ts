import { createHash } from "node:crypto";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { CURRICULUM_DIRNAME, REPORT_FILE, STUDY_FILES } from "../config/layout.js";
import { createExecutor } from "../experiments/executors/index.js";
import { postprocess } from "../experiments/postprocess.js";
import { train } from "../experiments/train.js";
import { writeCorrelationMatrix } from "../scoring/correlation-matrix.js";
import { removeStaleTemporaries } from "../util/atomic.js";
import { CurriculaError } from "../util/errors.js";
import { acquireLock, lockPath, removeStaleLock } from "../util/lock.js";
import { writeLine } from "../util/progress.js";
import { readYaml, writeYaml } from "../util/yaml-io.js";
import { fuseStudyGroup } from "./fusion-groups.js";
import type { StudyPlan } from "./plan.js";

/**
 * Runs a planned study stage by stage, in dependency order: baseline training → scoring (one
 * process per scoring function, `jobs` at a time) → correlation → curriculum training →
 * postprocess → report. Each finished stage is recorded in `<experiment>/study/state.yaml` with a
 * fingerprint of its inputs; a rerun skips recorded stages whose inputs are unchanged, and inside a
 * stage finished runs and scores are skipped too, so a crash or Ctrl-C costs only unfinished work.
 */

export interface Stage {
  name: string;
  /** Stages of one phase may run at the same time. */
  phase: number;
  describe: string;
  fingerprint: string;
  run: () => Promise<void>;
  /** Training stages: the overrides of their grid (cluster executors queue its runs). */
  trainOverrides?: string[];
}

export interface StudyRunOptions {
  jobs?: number;
  dryRun?: boolean;
  log?: (line: string) => void;
}

export interface StudyRunResult {
  stages: { name: string; status: "done" | "skipped" | "pending" }[];
  report: string | null;
}

interface StudyState {
  stages: Record<string, { fingerprint: string; seconds: number; finished: string }>;
}

function stageDone(state: StudyState, stage: Stage): boolean {
  return state.stages[stage.name]?.fingerprint === stage.fingerprint;
}

function fingerprint(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/** The stages of a plan, in order. */
export function studyStages(plan: StudyPlan, options: StudyRunOptions = {}): Stage[] {
  const { study, cwd, confDir } = plan;
  // results_dir may be absolute: resolved against the study's folder, never joined to it.
  const resultsDir = resolve(cwd, study.results_dir);
  const jobs = Math.max(1, options.jobs ?? 1);
  const log = options.log ?? writeLine;
  const stages: Stage[] = [];
  const trainStage = async (overrides: string[]) => {
    const summary = await train({ overrides, configPath: confDir, cwd, jobs, log });
    if (summary.failed.length > 0 || summary.busy.length > 0) {
      throw new CurriculaError(
        `${summary.failed.length + summary.busy.length} training run(s) did not finish: ` +
          [...summary.failed, ...summary.busy].map((f) => f.name).join(", "),
      );
    }
  };
  stages.push({
    name: "train-baseline",
    phase: 1,
    describe: `train ${plan.groups.reduce((n, g) => n + g.runs.length, 0)} baseline run(s)`,
    fingerprint: fingerprint(plan.baselineOverrides),
    run: () => trainStage(plan.baselineOverrides),
    trainOverrides: plan.baselineOverrides,
  });
  const byFunction = new Map<string, StudyPlan["scores"]>();
  for (const s of plan.scores) byFunction.set(s.function, [...(byFunction.get(s.function) ?? []), s]);
  for (const [fn, scores] of byFunction) {
    const ids = scores.map((s) => s.id);
    const overrides = [`curriculum/scoring=${ids.join(",")}`, ...plan.common, "correlation=null"];
    // The command line these stages once ran: kept as their fingerprint, so that studies recorded
    // before scoring ran in a worker process skip them as before.
    const args = ["--no-progress", "curriculum", "--config-path", confDir, ...overrides];
    stages.push({
      name: `score-${fn}`,
      // scores that reuse another score's results (ConfidentLearning on CVLoss's folds) run after it
      phase: scores.some((s) => typeof s.config.cvloss === "string") ? 2.5 : 2,
      describe: `score ${ids.join(", ")}`,
      fingerprint: fingerprint({ args, configs: scores.map((s) => s.config) }),
      run: () => scoreStage(overrides, confDir, cwd, `score-${fn}`, log),
    });
  }
  const curriculumDir = join(plan.experimentDir, CURRICULUM_DIRNAME);
  stages.push({
    name: "correlation",
    phase: 3,
    describe: `${study.correlation} correlation of every score`,
    fingerprint: fingerprint({ method: study.correlation, scores: plan.scores.map((s) => s.id) }),
    run: async () => {
      const result = await writeCorrelationMatrix(
        curriculumDir,
        "correlation_matrix",
        "all",
        study.correlation,
      );
      if (result) log(`correlation_matrix: ${result.ids.length} scores → ${relative(cwd, result.csv)}`);
    },
  });
  plan.curriculumOverrides.forEach((overrides, i) => {
    stages.push({
      name: plan.groups.length > 1 ? `train-curricula${plan.groups[i]?.tag}` : "train-curricula",
      phase: 4,
      describe: `train ${study.curriculum.orderings.join(", ")} × ${study.seeds.length} seed(s) with ${study.curriculum.pacing} pacing`,
      fingerprint: fingerprint(overrides),
      run: () => trainStage(overrides),
      trainOverrides: overrides,
    });
  });
  stages.push({
    name: "postprocess",
    phase: 5,
    describe: "summary and seed aggregation",
    // Inputs are everything before it: unchanged earlier stages mean an unchanged summary.
    fingerprint: fingerprint(stages.map((s) => s.fingerprint)),
    run: async () => {
      await postprocess(resultsDir, study.experiment_id, {
        aggregate: [["seed"]],
        log,
        ...(plan.difficultyScores.length > 0 ? { difficulty: plan.difficultyScores } : {}),
      });
    },
  });
  if (study.fusion) {
    stages.push({
      name: "fusion",
      phase: 5,
      describe: `late fusion of ${study.curriculum.orderings.join(", ")} and the baseline`,
      fingerprint: fingerprint(stages.map((s) => s.fingerprint)),
      run: async () => {
        for (const group of plan.groups) {
          const result = await fuseStudyGroup(resultsDir, study, group);
          log(`fusion: ${result.members.length} runs → ${relative(cwd, result.dir)}`);
        }
      },
    });
  }
  if (study.report) {
    stages.push({
      name: "report",
      phase: 6,
      describe: "write the HTML report",
      fingerprint: fingerprint(stages.map((s) => s.fingerprint)),
      run: async () => {
        const { writeReport } = await import("../report/report.js");
        const path = await writeReport(resultsDir, study.experiment_id);
        log(`report: ${relative(cwd, path) || path}`);
      },
    });
  }
  return stages;
}

/**
 * Runs a scoring sweep through the library's `score()` in a worker process (several stages score at
 * once), prefixing its output lines with the stage name. A signal to the study stops the worker
 * and waits for it (util/interrupt.ts); so does the study process disappearing.
 */
async function scoreStage(
  overrides: string[],
  configPath: string,
  cwd: string,
  tag: string,
  log: (line: string) => void,
): Promise<void> {
  const executor = await createExecutor({ executor: "local", processes: true });
  let scores: Awaited<ReturnType<NonNullable<typeof executor.score>>>;
  try {
    scores = await (executor.score?.(
      { overrides, configPath, cwd },
      { onOutput: (line) => log(`  [${tag}] ${line}`) },
    ) ?? Promise.resolve(null));
  } catch (error) {
    throw new CurriculaError(`stage ${tag} failed: ${(error as Error).message}`);
  }
  for (const { id, type, scoreFile, matrices } of scores ?? []) {
    log(`  [${tag}] ${type}/${id}: ${relative(cwd, scoreFile)}`);
    for (const m of matrices) log(`  [${tag}]   ${m.name}: ${relative(cwd, m.csv)} (${m.count} scores)`);
  }
}

/** `<experiment>/study/state.yaml`. */
export function studyStatePath(plan: StudyPlan): string {
  return join(plan.experimentDir, STUDY_FILES.state);
}

/** The recorded stages of a study. */
export function readStudyState(plan: StudyPlan): StudyState {
  const path = studyStatePath(plan);
  const state: StudyState = existsSync(path) ? readYaml<StudyState>(path) : { stages: {} };
  state.stages ??= {};
  return state;
}

/** True when the stage is recorded as finished with unchanged inputs. */
export function isStageDone(plan: StudyPlan, stage: Stage): boolean {
  return stageDone(readStudyState(plan), stage);
}

/** A lock of state.yaml this old is stale even when its holder is on another machine (see recordStage). */
const STATE_LOCK_STALE_MS = 60_000;

/**
 * Records a finished stage. Stage jobs of a cluster finish concurrently, so the read-modify-write
 * of state.yaml happens under its lock (util/lock.ts: a holder that died on this machine is taken
 * over at once). A holder on another machine that died mid-record leaves its lock behind; the lock
 * is held for one read and one write, so one older than a minute is stale.
 */
async function recordStage(plan: StudyPlan, stage: Stage, seconds: number): Promise<void> {
  const path = studyStatePath(plan);
  mkdirSync(dirname(path), { recursive: true });
  for (;;) {
    const lock = acquireLock(path);
    if (!("heldBy" in lock)) {
      try {
        const state = readStudyState(plan);
        state.stages[stage.name] = {
          fingerprint: stage.fingerprint,
          seconds,
          finished: new Date().toISOString(),
        };
        writeYaml(path, state);
      } finally {
        lock.release();
      }
      return;
    }
    const file = lockPath(path);
    const age = Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > STATE_LOCK_STALE_MS) rmSync(file, { force: true });
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Removes what a killed study left of its state: the lock of a dead process on this machine, a
 * minute-old `state.yaml.lock` of earlier versions, which kept it beside state.yaml, and the
 * temporary files of atomic writes whose writer is gone (state.yaml's, the generated configs', the
 * report's at the experiment's top level).
 */
function removeStaleStateLocks(plan: StudyPlan): void {
  const path = studyStatePath(plan);
  removeStaleLock(path);
  removeStaleTemporaries(dirname(path));
  // The report and other files the study writes at the experiment's top level.
  removeStaleTemporaries(plan.experimentDir, false);
  const legacy = `${path}.lock`;
  const age = Date.now() - (statSync(legacy, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
  if (age > STATE_LOCK_STALE_MS) rmSync(legacy, { force: true });
}

/** Records a stage that ran from `started` (performance.now()) until now, and says so. */
async function stageFinished(
  plan: StudyPlan,
  stage: Stage,
  started: number,
  log: (line: string) => void,
): Promise<void> {
  const seconds = (performance.now() - started) / 1000;
  await recordStage(plan, stage, seconds);
  log(`done  ${stage.name} in ${seconds.toFixed(1)}s`);
}

/** The phases of some stages, in the order they run. */
export function phasesOf(stages: readonly Stage[]): number[] {
  return [...new Set(stages.map((s) => s.phase))].sort((a, b) => a - b);
}

/** `<experiment>/report.html` when the study writes a report, else null. */
export function studyReportPath(plan: StudyPlan): string | null {
  return plan.study.report ? join(plan.experimentDir, REPORT_FILE) : null;
}

/** Runs one stage by name and records it (what a cluster's stage job runs). */
export async function runStage(plan: StudyPlan, name: string, options: StudyRunOptions = {}): Promise<void> {
  const log = options.log ?? writeLine;
  const stage = studyStages(plan, { ...options, log }).find((s) => s.name === name);
  if (!stage) throw new CurriculaError(`the study has no stage '${name}'`);
  if (isStageDone(plan, stage)) {
    log(`skip  ${stage.name} (finished earlier)`);
    return;
  }
  log(`stage ${stage.name}: ${stage.describe}`);
  const started = performance.now();
  await stage.run();
  await stageFinished(plan, stage, started, log);
}

/** Runs every stage that is not recorded as finished with the same inputs. */
export async function runStudy(plan: StudyPlan, options: StudyRunOptions = {}): Promise<StudyRunResult> {
  const log = options.log ?? writeLine;
  const stages = studyStages(plan, { ...options, log });
  const state = readStudyState(plan);
  const isDone = (s: Stage) => stageDone(state, s);
  const result: StudyRunResult = { stages: [], report: null };
  if (options.dryRun) {
    for (const s of stages) {
      const status = isDone(s) ? "skipped" : "pending";
      log(`${status === "skipped" ? "done   " : "pending"} ${s.name}: ${s.describe}`);
      result.stages.push({ name: s.name, status });
    }
    return result;
  }
  removeStaleStateLocks(plan);
  return runPhases(stages, state, plan, result, options, log);
}

async function runPhases(
  stages: Stage[],
  state: StudyState,
  plan: StudyPlan,
  result: StudyRunResult,
  options: StudyRunOptions,
  log: (line: string) => void,
): Promise<StudyRunResult> {
  const isDone = (s: Stage) => stageDone(state, s);
  const jobs = Math.max(1, options.jobs ?? 1);
  for (const phase of phasesOf(stages)) {
    const todo = stages.filter((s) => s.phase === phase);
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const stage = todo[next++] as Stage;
        if (isDone(stage)) {
          log(`skip  ${stage.name} (finished earlier)`);
          result.stages.push({ name: stage.name, status: "skipped" });
          continue;
        }
        log(`stage ${stage.name}: ${stage.describe}`);
        const started = performance.now();
        try {
          await stage.run();
        } catch (error) {
          failures.push(`${stage.name}: ${(error as Error).message}`);
          continue;
        }
        await stageFinished(plan, stage, started, log);
        result.stages.push({ name: stage.name, status: "done" });
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
    if (failures.length > 0) {
      throw new CurriculaError(
        `the study stopped: ${failures.length} stage(s) failed\n  ${failures.join("\n  ")}`,
      );
    }
  }
  result.report = studyReportPath(plan);
  return result;
}
