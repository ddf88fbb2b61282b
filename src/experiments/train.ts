import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { checkFinishedRunModule } from "../assembly/model-check.js";
import { withReviewTagsFingerprints } from "../assembly/review.js";
import { withWeightsFingerprint } from "../assembly/weights.js";
import { type ComposeOptions, composeGrid, type GridPoint } from "../config/compose.js";
import { RUN_FILES, runDir as runDirOf } from "../config/layout.js";
import { runName } from "../config/naming.js";
import { isLoss, type RunConfig } from "../config/schema.js";
import { checkFinishedRunScore } from "../curriculum/trained-score.js";
import { dropResumeSnapshots, inspectRunFolder } from "../training/resume.js";
import { checkWritable } from "../util/dirs.js";
import { ConfigError, CurriculaError } from "../util/errors.js";
import { removeStaleLock } from "../util/lock.js";
import { createRunStatus, formatMetrics, progressAllowed, writeLine } from "../util/progress.js";
import { checkRunConfig } from "./check-run.js";
import { runConfigKeys } from "./config-keys.js";
import { type Executor, LocalExecutor } from "./executors/local.js";
import type { RunOutcome, RunSpec } from "./run-spec.js";

/**
 * `curricula train` and `preprocess` as functions: the grid is planned (finished runs skipped,
 * run folders of another config refused) and its unfinished runs handed to an executor.
 */

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
    // The start weights' fingerprint is part of the run's config (a finished run trained from other
    // weights is a mismatch, never reused); a missing weights file stops here, before anything runs.
    // So are the review tags' (dataset.exclude, dataset.relabel).
    const config = withReviewTagsFingerprints(withWeightsFingerprint(rest as RunConfig, cwd), cwd);
    const name = runName(config);
    const dir = resolve(cwd, runDirOf(config.results_dir, config.experiment_id, name));
    try {
      const state = inspectRunFolder(dir, config);
      if (state === "finished") {
        checkFinishedRunScore(dir, config);
        checkFinishedRunModule(dir, config, cwd);
        // A run killed after metrics.csv but before its resume snapshots were removed.
        dropResumeSnapshots(dir);
      }
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
  const executor = options.executor ?? new LocalExecutor({ jobs, log, progress: options.progress ?? true });
  const width = String(specs.length).length;
  const tag = (i: number) => `[${String(i + 1).padStart(width)}/${specs.length}]`;
  // With worker processes, a line per running run: live at the bottom of a terminal (when the
  // messages go to stderr too), else printed every few seconds (instead of silence).
  const showRuns = jobs > 1 && options.progress !== false && progressAllowed() && log !== null;
  const status = showRuns
    ? createRunStatus(log, { live: log === writeLine, intervalSeconds: options.statusInterval ?? 5 })
    : null;
  const outcomes = await executor
    .run(specs, {
      onStart: (spec, i) => {
        log?.(`${tag(i)} start  ${spec.name}`);
        status?.start(i, `${tag(i)} ${spec.name}`);
      },
      onProgress: (_spec, i, bars) => status?.progress(i, bars),
      onEnd: (outcome, i) => {
        status?.end(i);
        if (outcome.status === "submitted") log?.(`${tag(i)} queued ${outcome.name} (job ${outcome.job})`);
        else if (outcome.interrupted)
          log?.(`${tag(i)} stopped ${outcome.name} (on request; it resumes from its checkpoint)`);
        else if (outcome.status === "failed") log?.(`${tag(i)} FAILED ${outcome.name}: ${outcome.error}`);
        else if (outcome.status === "busy") log?.(`${tag(i)} busy   ${outcome.name}: ${outcome.error}`);
        else {
          const verb = outcome.status === "skipped" ? "skip  " : "done  ";
          const metrics = [
            formatMetrics(outcome.best, "dev_", isLoss),
            formatMetrics(outcome.test, "test_", isLoss),
          ].filter(Boolean);
          log?.(
            `${tag(i)} ${verb} ${outcome.name} in ${outcome.seconds.toFixed(1)}s ${metrics.join(" ")}`.trimEnd(),
          );
        }
      },
      onOutput: (line, spec) => log?.(`  ${spec ? `${spec.name}: ` : ""}${line}`),
    })
    .finally(() => status?.stop());
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
