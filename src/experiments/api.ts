import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  type ComposeOptions,
  composeGrid,
  findConfigFile,
  type GridPoint,
  listConfigNames,
} from "../config/compose.js";
import { MODEL_FILES, RUN_FILES, runDir as runDirOf, trainingDir } from "../config/layout.js";
import { runName } from "../config/naming.js";
import { LOCAL_CONFIG_DIRNAME, PACKAGED_CONFIG_DIR } from "../config/package.js";
import { isLoss, type RunConfig } from "../config/schema.js";
import { isRunFinished } from "../results/run-folder.js";
import { inspectRunFolder } from "../training/checkpoint.js";
import { checkWritable, ensureDir } from "../util/dirs.js";
import { ConfigError, CurriculaError, UsageError } from "../util/errors.js";
import { removeStaleLock } from "../util/lock.js";
import {
  createRunBoard,
  formatDuration,
  formatSnapshot,
  type ProgressSnapshot,
  progressAllowed,
  writeLine,
} from "../util/progress.js";
import { checkRunConfig } from "./check-run.js";
import { runConfigKeys } from "./config-keys.js";
import { createExecutor, type Executor } from "./executors/local.js";
import { type PostprocessOptions, type PostprocessResult, postprocessExperiment } from "./postprocess.js";
import { acquireLock, type RunOutcome, type RunSpec } from "./run-spec.js";

/**
 * The library API, mirroring the CLI (as aucurriculum.cli mirrors its commands): `train`,
 * `postprocess`, `create`, `list`, `show`, `rmFailed`, `rmStates`, `preprocess`. The CLI commands
 * are thin wrappers that print what these return.
 */

/** Config groups `create`, `list` and `show` accept (autrainer's and aucurriculum's). */
export const CONFIG_GROUPS = [
  "augmentation",
  "dataset",
  "model",
  "optimizer",
  "plotting",
  "scheduler",
  "curriculum",
  "curriculum/pacing",
  "curriculum/sampling",
  "curriculum/scoring",
] as const;

/** Entry configs `create` copies into conf/. */
export const ENTRY_CONFIGS = ["config.yaml", "curriculum.yaml"] as const;

type Log = ((line: string) => void) | null;

function stderrLog(log: Log | undefined): Log {
  return log === undefined ? writeLine : log;
}

// ---------------------------------------------------------------------------------------------
// train

export interface TrainCommandOptions extends Omit<ComposeOptions, "schema" | "jobDir"> {
  /** Worker processes (default 1: runs in this process). */
  jobs?: number;
  /** A custom executor (e.g. a queue); overrides `jobs`. */
  executor?: Executor;
  /** List what would run without training. */
  dryRun?: boolean;
  /**
   * Show progress: the trainer's bars (one job), or a status line per running run (several jobs;
   * live at the bottom of stderr on a terminal, else printed every `statusInterval` seconds).
   */
  progress?: boolean;
  /**
   * Seconds between the printed status lines of running runs with several jobs when stderr is not
   * a terminal (default 5; 0: none).
   */
  statusInterval?: number;
}

export interface TrainSummary {
  /** Every grid point after filters, in grid order. */
  runs: RunOutcome[];
  trained: RunOutcome[];
  skipped: RunOutcome[];
  failed: RunOutcome[];
  /** Runs another process is training right now (left alone). */
  busy: RunOutcome[];
  /** Runs that would train (dry run). */
  pending: RunSpec[];
  /** Runs handed to a cluster queue that trains them later (SLURM without --wait). */
  submitted: RunOutcome[];
}

/** A running run's progress for its status line: the innermost bar in full, the outer ones short. */
export function describeBars(bars: readonly ProgressSnapshot[], since: number): string {
  const inner = bars[bars.length - 1];
  if (!inner) return `starting (${formatDuration((performance.now() - since) / 1000)})`;
  const outer = bars
    .slice(0, -1)
    .reverse()
    .map((b) => `${b.label} ${b.value}/${b.total}${b.info ? ` ${b.info}` : ""}`);
  return [formatSnapshot(inner), ...outer].join(" | ");
}

function formatMetrics(values: Record<string, number> | undefined, prefix = ""): string {
  if (!values) return "";
  return Object.entries(values)
    .filter(([k]) => !isLoss(k))
    .map(([k, v]) => `${prefix}${k}=${Number.isFinite(v) ? v.toFixed(4) : v}`)
    .join(" ");
}

/**
 * Composes the grid and trains every point that is not finished yet (`curricula train`). Finished
 * runs are skipped before any worker starts or the engine loads; failing runs do not stop the
 * others and are reported in the summary.
 */
export async function train(options: TrainCommandOptions = {}): Promise<TrainSummary> {
  const cwd = options.cwd ?? process.cwd();
  const log = stderrLog(options.log);
  const points = (await composeGrid({
    ...options,
    cwd,
    log,
    keys: options.keys ?? runConfigKeys,
  })) as GridPoint<RunConfig>[];
  const specs: RunSpec[] = [];
  const skipped: RunOutcome[] = [];
  const mismatches: string[] = [];
  for (const point of points) {
    // `slurm:` (cluster resources) is no part of a run's identity: kept out of the saved config.
    const { slurm, ...rest } = point.config as RunConfig & { slurm?: Record<string, unknown> };
    const config = rest as RunConfig;
    const name = runName(config);
    const dir = resolve(cwd, runDirOf(config.results_dir, config.experiment_id, name));
    try {
      const state = inspectRunFolder(dir, config);
      if (state === "finished") {
        // A run killed after it finished, before it let go of its lock, left the lock behind.
        removeStaleLock(dir);
        skipped.push({ name, runDir: dir, status: "skipped", seconds: 0 });
      } else specs.push({ name, runDir: dir, config, cwd: resolve(cwd), ...(slurm ? { slurm } : {}) });
    } catch (error) {
      if (error instanceof ConfigError) mismatches.push(error.message);
      else throw error;
    }
  }
  if (mismatches.length > 0) {
    throw new CurriculaError(
      `${mismatches.length} run folder(s) hold runs of a different config; nothing was trained (a finished run trained on a score that changed since counts as one).\n${mismatches.join("\n")}`,
    );
  }
  for (const s of skipped) log?.(`skip   ${s.name} (finished)`);
  // An unwritable results_dir fails here, at once and naming the folder, not once per run (and
  // without creating anything: an executor may still refuse its own settings).
  for (const folder of new Set(specs.map((spec) => dirname(spec.runDir)))) checkWritable(folder);
  const summary: TrainSummary = {
    runs: [],
    trained: [],
    skipped,
    failed: [],
    busy: [],
    pending: [],
    submitted: [],
  };
  if (options.dryRun) {
    // Everything a real run would refuse before it starts, without loading data or the engine.
    for (const spec of specs) checkRunConfig(spec.config);
    for (const spec of specs) log?.(`would train ${spec.name}`);
    summary.pending = specs;
    summary.runs = [...skipped];
    return summary;
  }
  if (specs.length === 0) {
    log?.(`All ${points.length} run(s) finished already; nothing to train.`);
    summary.runs = [...skipped];
    return summary;
  }
  const jobs = Math.max(1, Math.min(options.jobs ?? 1, specs.length));
  const executor =
    options.executor ??
    createExecutor(jobs, {
      log: jobs === 1 ? log : null,
      progress: options.progress ?? true,
    });
  const width = String(specs.length).length;
  const tag = (i: number) => `[${String(i + 1).padStart(width)}/${specs.length}]`;
  // With worker processes, a line per running run: live at the bottom of a terminal (when the
  // messages go to stderr too), else printed every few seconds (instead of silence).
  const running = new Map<number, { spec: RunSpec; bars: ProgressSnapshot[]; since: number }>();
  const intervalSeconds = options.statusInterval ?? 5;
  const showRuns = jobs > 1 && options.progress !== false && progressAllowed() && log !== null;
  const board = showRuns && log === writeLine ? createRunBoard() : null;
  const status =
    showRuns && !board && intervalSeconds > 0
      ? setInterval(() => {
          for (const [i, run] of [...running.entries()].sort((a, b) => a[0] - b[0])) {
            log(`${tag(i)} ${run.spec.name}: ${describeBars(run.bars, run.since)}`);
          }
        }, intervalSeconds * 1000)
      : null;
  status?.unref();
  const outcomes = await executor
    .run(specs, {
      onStart: (spec, i) => {
        const run = { spec, bars: [] as ProgressSnapshot[], since: performance.now() };
        running.set(i, run);
        log?.(`${tag(i)} start  ${spec.name}`);
        board?.set(i, `${tag(i)} ${spec.name}`, () => describeBars(run.bars, run.since));
      },
      onProgress: (_spec, i, bars) => {
        const run = running.get(i);
        if (run) run.bars = bars;
      },
      onEnd: (outcome, i) => {
        running.delete(i);
        board?.delete(i);
        if (outcome.status === "submitted") log?.(`${tag(i)} queued ${outcome.name} (job ${outcome.job})`);
        else if (outcome.status === "failed") log?.(`${tag(i)} FAILED ${outcome.name}: ${outcome.error}`);
        else if (outcome.status === "busy") log?.(`${tag(i)} busy   ${outcome.name}: ${outcome.error}`);
        else {
          const verb = outcome.status === "skipped" ? "skip  " : "done  ";
          const metrics = [formatMetrics(outcome.best, "dev_"), formatMetrics(outcome.test, "test_")].filter(
            Boolean,
          );
          log?.(
            `${tag(i)} ${verb} ${outcome.name} in ${outcome.seconds.toFixed(1)}s ${metrics.join(" ")}`.trimEnd(),
          );
        }
      },
      onOutput: (line, spec) => log?.(`  ${spec ? `${spec.name}: ` : ""}${line}`),
    })
    .finally(() => {
      if (status) clearInterval(status);
      board?.stop();
    });
  summary.runs = [...skipped, ...outcomes];
  summary.trained = outcomes.filter((o) => o.status === "trained");
  summary.skipped.push(...outcomes.filter((o) => o.status === "skipped"));
  summary.failed = outcomes.filter((o) => o.status === "failed");
  summary.busy = outcomes.filter((o) => o.status === "busy");
  summary.submitted = outcomes.filter((o) => o.status === "submitted");
  log?.(
    `${points.length} run(s): ${summary.trained.length} trained, ${summary.skipped.length} skipped` +
      `${summary.submitted.length ? `, ${summary.submitted.length} submitted` : ""}` +
      `${summary.busy.length ? `, ${summary.busy.length} busy elsewhere` : ""}, ${summary.failed.length} failed.`,
  );
  if (summary.failed.length > 0) {
    log?.("Failed runs:");
    for (const f of summary.failed) {
      const logFile = join(f.runDir, RUN_FILES.log);
      const where = existsSync(logFile)
        ? `log: ${logFile}`
        : "no run folder was left (the run was refused before training began)";
      log?.(`  ${f.name}\n    ${f.error}\n    ${where}`);
    }
  }
  return summary;
}

// ---------------------------------------------------------------------------------------------
// preprocess

/** Runs each dataset's preprocessing (AudioFolder feature cache) for every dataset of the grid. */
export async function preprocess(
  options: Omit<TrainCommandOptions, "jobs" | "executor"> = {},
): Promise<string[]> {
  const log = stderrLog(options.log);
  const points = (await composeGrid({
    ...options,
    log,
    keys: options.keys ?? runConfigKeys,
  })) as GridPoint<RunConfig>[];
  const seen = new Map<string, RunConfig["dataset"]>();
  for (const p of points) seen.set(JSON.stringify(p.config.dataset), p.config.dataset);
  const data = await import("../data/index.js");
  log?.("Preprocessing datasets...");
  for (const dataset of seen.values()) {
    log?.(` - ${dataset.id}`);
    await data.preprocessDataset(dataset);
  }
  return [...seen.values()].map((d) => d.id);
}

// ---------------------------------------------------------------------------------------------
// postprocess

/** Summary and aggregations of an experiment (`curricula postprocess`). */
export async function postprocess(
  resultsDir: string,
  experimentId: string,
  options: PostprocessOptions = {},
): Promise<PostprocessResult> {
  return postprocessExperiment(resultsDir, experimentId, options);
}

// ---------------------------------------------------------------------------------------------
// create / list / show

export interface CreateOptions {
  groups?: string[];
  empty?: boolean;
  all?: boolean;
  force?: boolean;
  cwd?: string;
}

function checkGroup(group: string): void {
  if (!(CONFIG_GROUPS as readonly string[]).includes(group)) {
    throw new UsageError(`Invalid configuration directory '${group}'.`);
  }
}

/** Creates a project's `conf/` with the entry configs and the named group folders. Returns created paths. */
export function create(options: CreateOptions = {}): string[] {
  const groups = options.groups ?? [];
  const cwd = options.cwd ?? process.cwd();
  if (options.empty && options.all)
    throw new UsageError("The flags -e/--empty and -a/--all are mutually exclusive.");
  if ((options.empty || options.all) && groups.length > 0) {
    throw new UsageError(
      "The flags -e/--empty and -a/--all are mutually exclusive with configuration directories.",
    );
  }
  if (!options.empty && !options.all && groups.length === 0) {
    throw new UsageError("No configuration directories specified.");
  }
  for (const group of groups) checkGroup(group);
  const conf = join(cwd, LOCAL_CONFIG_DIRNAME);
  if (existsSync(conf) && !options.force) {
    throw new CurriculaError(
      `Directory '${LOCAL_CONFIG_DIRNAME}' already exists. Use -f/--force to overwrite it.`,
    );
  }
  ensureDir(conf);
  const created: string[] = [];
  for (const file of ENTRY_CONFIGS) {
    copyFileSync(join(PACKAGED_CONFIG_DIR, file), join(conf, file));
    created.push(join(conf, file));
  }
  const dirs = options.all ? [...CONFIG_GROUPS] : options.empty ? [] : groups;
  for (const group of dirs) {
    ensureDir(join(conf, group));
    created.push(join(conf, group));
  }
  return created;
}

export interface ListOptions {
  localOnly?: boolean;
  globalOnly?: boolean;
  pattern?: string;
  configPath?: string;
  cwd?: string;
}

/** Matches a shell glob (`*`, `?`, `[abc]`) against a whole name. */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\");
        source += `[${body}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

export interface ConfigListing {
  scope: "global" | "local";
  group: string;
  names: string[];
}

/** Lists packaged (global) and local configs of a group, glob-filtered. */
export function list(group: string, options: ListOptions = {}): ConfigListing[] {
  checkGroup(group);
  const cwd = options.cwd ?? process.cwd();
  const localDir = resolve(cwd, options.configPath ?? LOCAL_CONFIG_DIRNAME);
  const showGlobal = !options.localOnly || options.globalOnly;
  const showLocal = !options.globalOnly || options.localOnly;
  const matcher = globToRegExp(options.pattern ?? "*");
  const out: ConfigListing[] = [];
  if (showGlobal) {
    out.push({
      scope: "global",
      group,
      names: listConfigNames(PACKAGED_CONFIG_DIR, group).filter((n) => matcher.test(n)),
    });
  }
  if (showLocal) {
    if (!existsSync(join(localDir, group))) {
      if (options.localOnly && !options.globalOnly) {
        throw new CurriculaError(
          `Local conf directory '${group}' does not exist.\n Use 'curricula create ${group}' to create a new project.`,
        );
      }
      out.push({ scope: "local", group, names: [] });
    } else {
      out.push({
        scope: "local",
        group,
        names: listConfigNames(localDir, group).filter((n) => matcher.test(n)),
      });
    }
  }
  return out;
}

/** Formats a listing as the original prints it. */
export function formatListing(listings: readonly ConfigListing[]): string {
  return listings
    .map((l) => {
      const scope = l.scope === "global" ? "global" : "local";
      const title = scope.charAt(0).toUpperCase() + scope.slice(1);
      if (l.names.length === 0) return `No ${scope} '${l.group}' configurations found.`;
      return [`${title} '${l.group}' configurations:`, ...l.names.map((n) => ` - ${n}`)].join("\n");
    })
    .join("\n");
}

export interface ShowOptions {
  save?: boolean;
  force?: boolean;
  cwd?: string;
}

/** The text of a packaged config; with `save`, also copies it into `conf/<group>/`. */
export function show(
  group: string,
  name: string,
  options: ShowOptions = {},
): { text: string; saved?: string } {
  checkGroup(group);
  const bare = name.replace(/\.ya?ml$/, "");
  const file = findConfigFile([PACKAGED_CONFIG_DIR], group, bare);
  if (!file) throw new CurriculaError(`No global configuration '${bare}' found for '${group}'.`);
  const text = readFileSync(file, "utf8");
  if (!options.save) return { text };
  const target = join(options.cwd ?? process.cwd(), LOCAL_CONFIG_DIRNAME, group, `${bare}.yaml`);
  if (existsSync(target) && !options.force) {
    throw new CurriculaError(`${group} configuration '${bare}' already exists. Use -f to overwrite.`);
  }
  ensureDir(join(target, ".."));
  copyFileSync(file, target);
  return { text, saved: target };
}

// ---------------------------------------------------------------------------------------------
// rm-failed / rm-states

function checkTraining(resultsDir: string, experimentId: string): string {
  if (!existsSync(resultsDir)) throw new CurriculaError(`Results directory '${resultsDir}' does not exist.`);
  const dir = trainingDir(resultsDir, experimentId);
  if (!existsSync(join(resultsDir, experimentId))) {
    throw new CurriculaError(
      `Experiment ID '${experimentId}' does not exist in the results directory '${resultsDir}'.`,
    );
  }
  return dir;
}

function runFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.startsWith(".") && statSync(join(dir, n)).isDirectory())
    .sort();
}

/** Unfinished run folders (no metrics.csv) that no live process is training. */
export function findFailedRuns(
  resultsDir: string,
  experimentId: string,
): { failed: string[]; busy: string[] } {
  const dir = checkTraining(resultsDir, experimentId);
  const failed: string[] = [];
  const busy: string[] = [];
  for (const name of runFolders(dir)) {
    if (isRunFinished(join(dir, name))) continue;
    const lock = acquireLock(join(dir, name));
    if ("heldBy" in lock) busy.push(name);
    else {
      lock.release();
      failed.push(name);
    }
  }
  return { failed, busy };
}

/** Deletes the given unfinished run folders (re-checked: finished or locked runs are kept). */
export function removeRuns(resultsDir: string, experimentId: string, names: readonly string[]): string[] {
  const dir = trainingDir(resultsDir, experimentId);
  const removed: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (isRunFinished(path)) continue;
    const lock = acquireLock(path);
    if ("heldBy" in lock) continue;
    try {
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } finally {
      lock.release();
    }
  }
  return removed;
}

/** Model-state files the trainer writes into iteration folders and `_best/`. */
export const STATE_FILES: readonly string[] = [...Object.values(MODEL_FILES), RUN_FILES.trainerState];

export interface RmStatesOptions {
  /** Also delete `_best/` states (kept by default: scoring loads them). */
  deleteBest?: boolean;
  /** Run names whose states are kept. */
  keepRuns?: string[];
  /** Iteration numbers whose states are kept. */
  keepIterations?: number[];
}

/** State files `rmStates` would delete: finished runs only (unfinished ones need them to resume). */
export function findStateFiles(
  resultsDir: string,
  experimentId: string,
  options: RmStatesOptions = {},
): string[] {
  const dir = checkTraining(resultsDir, experimentId);
  const files: string[] = [];
  for (const name of runFolders(dir)) {
    const run = join(dir, name);
    if (!isRunFinished(run) || options.keepRuns?.includes(name)) continue;
    for (const sub of readdirSync(run)) {
      const m = /^(epoch|step)_(\d+)$/.exec(sub);
      const isBest = sub === "_best";
      if (!m && !isBest) continue;
      if (isBest && !options.deleteBest) continue;
      if (m && options.keepIterations?.includes(Number(m[2]))) continue;
      for (const f of STATE_FILES) if (existsSync(join(run, sub, f))) files.push(join(run, sub, f));
    }
  }
  return files;
}

/** Deletes model states of finished runs (`curricula rm-states`); returns the deleted files. */
export function rmStates(resultsDir: string, experimentId: string, options: RmStatesOptions = {}): string[] {
  const files = findStateFiles(resultsDir, experimentId, options);
  for (const f of files) rmSync(f, { force: true });
  return files;
}

/** Deletes unfinished runs (`curricula rm-failed`, no confirmation); returns their names. */
export function rmFailed(resultsDir: string, experimentId: string): string[] {
  const { failed } = findFailedRuns(resultsDir, experimentId);
  return removeRuns(resultsDir, experimentId, failed);
}
