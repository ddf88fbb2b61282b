import { createHash } from "node:crypto";
import { relative } from "node:path";
import { type FlowJob, FlowProducer, type Job, Queue, QueueEvents, WaitingChildrenError } from "bullmq";
import {
  checkRedis,
  connect,
  DEFAULT_QUEUE,
  type QueueJobData,
  runJobId,
  type StudyPhaseData,
} from "../experiments/executors/bullmq.js";
import { runCurricula } from "../experiments/executors/bullmq-worker.js";
import {
  activeBatches,
  type Batch,
  jobFailures,
  SlurmExecutor,
  submitCommands,
  waitForJobs,
} from "../experiments/executors/slurm.js";
import { checkPartitions } from "../experiments/executors/slurm-commands.js";
import { parseSlurmSettings } from "../experiments/executors/slurm-script.js";
import type { RunSpec } from "../experiments/run-spec.js";
import { train } from "../experiments/train.js";
import { CurriculaError } from "../util/errors.js";
import { writeLine } from "../util/progress.js";
import { maskUrl, redactCredentials } from "../util/secrets.js";
import type { StudyPlan } from "./plan.js";
import {
  isStageDone,
  phasesOf,
  type Stage,
  type StudyRunResult,
  studyReportPath,
  studyStages,
} from "./stages.js";

/**
 * A study on a cluster. Each stage becomes jobs: a training stage one job array of its unfinished
 * runs plus a small job that records the stage; every other stage one job running
 * `curricula study <file> --stage <name>`. On SLURM the phases are chained with
 * `--dependency=afterok`, so one command submits the whole study; with BullMQ the phases form a
 * flow (each phase job waits for the one before it, then fans out its stages' jobs as children).
 */

export interface ClusterStudyOptions {
  executor: "slurm" | "bullmq";
  /** The study file (absolute) or null for the packaged default. */
  file: string | null;
  configPath?: string;
  wait?: boolean;
  redis?: string;
  queue?: string;
  log?: (line: string) => void;
}

/** The command line of a stage job. */
export function stageArgs(
  file: string | null,
  configPath: string | undefined,
  name: string,
  jobs = 1,
): string[] {
  return [
    "study",
    ...(file ? [file] : []),
    "--stage",
    name,
    "--jobs",
    String(jobs),
    ...(configPath ? ["--config-path", configPath] : []),
  ];
}

interface StageWork {
  stage: Stage;
  /** Unfinished runs of a training stage. */
  specs: RunSpec[];
}

/** Stages still to do, with the runs of training stages (run folders of another config refuse here). */
async function pendingWork(plan: StudyPlan, stages: Stage[]): Promise<StageWork[]> {
  const work: StageWork[] = [];
  for (const stage of stages) {
    if (isStageDone(plan, stage)) continue;
    let specs: RunSpec[] = [];
    if (stage.trainOverrides) {
      const summary = await train({
        overrides: stage.trainOverrides,
        configPath: plan.confDir,
        cwd: plan.cwd,
        dryRun: true,
        log: null,
      });
      specs = summary.pending;
    }
    work.push({ stage, specs });
  }
  return work;
}

export async function runClusterStudy(
  plan: StudyPlan,
  options: ClusterStudyOptions,
): Promise<StudyRunResult> {
  return options.executor === "slurm" ? submitSlurmStudy(plan, options) : runBullMQStudy(plan, options);
}

// ---------------------------------------------------------------------------------------------
// SLURM

async function submitSlurmStudy(plan: StudyPlan, options: ClusterStudyOptions): Promise<StudyRunResult> {
  const log = options.log ?? writeLine;
  const source = options.file ?? "the default study";
  const settings = parseSlurmSettings(plan.study.slurm, source);
  checkPartitions([settings.partition], source);
  const stages = studyStages(plan, { log });
  // Stage jobs of an earlier submission that are still queued or running are waited for, not
  // resubmitted. They are read before the pending work: a job that ends in between is then found
  // finished by the work check, never taken for a stage to submit again.
  const active = new Map<string, string>();
  for (const { batch, states } of activeBatches(plan.experimentDir)) {
    if (batch.batch.kind === "commands" && states[0]) active.set(batch.batch.label, states[0].job);
  }
  const work = await pendingWork(plan, stages);
  const result: StudyRunResult = { stages: [], report: null };
  for (const s of stages)
    if (!work.some((w) => w.stage === s)) result.stages.push({ name: s.name, status: "skipped" });
  if (work.length === 0) {
    log("Every stage finished already; nothing to submit.");
    result.report = studyReportPath(plan);
    return result;
  }
  const batches: Batch[] = [];
  const allJobs: string[] = [];
  let before: string[] = [];
  for (const phase of phasesOf(work.map((w) => w.stage))) {
    const phaseJobs: string[] = [];
    for (const { stage, specs } of work.filter((w) => w.stage.phase === phase)) {
      const running = active.get(stage.name);
      if (running) {
        log(`queued ${stage.name} (already in job ${running})`);
        phaseJobs.push(running);
        continue;
      }
      const dependencies = [...before];
      if (specs.length > 0) {
        const executor = new SlurmExecutor({
          settings: plan.study.slurm ?? {},
          source,
          dependencies: before,
          label: `${stage.name}-runs`,
          log,
        });
        await executor.run(specs);
        batches.push(...executor.batches);
        dependencies.push(...executor.jobIds);
      }
      const batch = submitCommands({
        experimentDir: plan.experimentDir,
        label: stage.name,
        cwd: plan.cwd,
        settings,
        commands: [
          { name: stage.name, args: stageArgs(options.file, options.configPath, stage.name, settings.cpus) },
        ],
        dependencies,
      });
      batches.push(batch);
      const jobId = batch.submitted?.jobId as string;
      log(
        `submitted ${stage.name} as job ${jobId}${dependencies.length ? ` (after ${[...new Set(dependencies)].join(", ")})` : ""}`,
      );
      phaseJobs.push(jobId);
      result.stages.push({ name: stage.name, status: "pending" });
    }
    allJobs.push(...phaseJobs);
    before = [...before, ...phaseJobs];
  }
  const status = `curricula status ${relative(plan.cwd, plan.experimentDir.replace(/[/\\][^/\\]+$/, "")) || "."} ${plan.study.experiment_id}`;
  if (!options.wait) {
    log(`The study is queued; follow it with: ${status}`);
    return result;
  }
  log("waiting for the jobs (Ctrl-C stops waiting; the jobs keep running)");
  const failed = await waitForJobs(allJobs);
  if (failed.length > 0) throw jobFailures(failed, batches);
  for (const s of result.stages) if (s.status === "pending") s.status = "done";
  result.report = studyReportPath(plan);
  return result;
}

// ---------------------------------------------------------------------------------------------
// BullMQ

function phaseJobId(plan: StudyPlan, phase: number, stages: Stage[]): string {
  const h = createHash("sha256")
    .update(JSON.stringify([plan.experimentDir, stages.map((s) => [s.name, s.fingerprint])]))
    .digest("hex")
    .slice(0, 24);
  return `study-${h}-p${phase}`;
}

async function runBullMQStudy(plan: StudyPlan, options: ClusterStudyOptions): Promise<StudyRunResult> {
  const log = options.log ?? writeLine;
  const url = options.redis as string;
  await checkRedis(url);
  const stages = studyStages(plan, { log });
  const work = await pendingWork(plan, stages);
  const result: StudyRunResult = { stages: [], report: null };
  for (const s of stages)
    result.stages.push({ name: s.name, status: work.some((w) => w.stage === s) ? "done" : "skipped" });
  result.report = studyReportPath(plan);
  if (work.length === 0) {
    log("Every stage finished already; nothing to queue.");
    return result;
  }
  const name = options.queue ?? DEFAULT_QUEUE;
  const phases = phasesOf(work.map((w) => w.stage));
  let flow: FlowJob | undefined;
  for (const phase of phases) {
    const phaseStages = work.filter((w) => w.stage.phase === phase).map((w) => w.stage);
    const data: QueueJobData = {
      kind: "phase",
      phase,
      study: {
        file: options.file,
        cwd: plan.cwd,
        ...(options.configPath ? { configPath: options.configPath } : {}),
        stages: phaseStages.map((s) => s.name),
      },
    };
    flow = {
      name: `phase-${phase}`,
      queueName: name,
      data,
      opts: { jobId: phaseJobId(plan, phase, phaseStages), failParentOnFailure: true, attempts: 1 },
      ...(flow ? { children: [flow] } : {}),
    };
  }
  const connection = connect(url);
  const eventsConnection = connect(url);
  const producer = new FlowProducer({ connection });
  const queueEvents = new QueueEvents(name, { connection: eventsConnection });
  const queue = new Queue(name, { connection });
  try {
    await queueEvents.waitUntilReady();
    queueEvents.on("completed", ({ jobId, returnvalue }) => {
      const value = returnvalue as unknown as { name?: string; status?: string } | undefined;
      if (value?.name) log(`  ${value.status ?? "done"} ${value.name} (job ${jobId})`);
    });
    const node = await producer.add(flow as FlowJob);
    log(
      `queued the study as a flow of ${phases.length} phase(s) on ${name} at ${maskUrl(url)}; waiting for workers`,
    );
    try {
      await node.job.waitUntilFinished(queueEvents);
    } catch (error) {
      throw new CurriculaError(
        `the study stopped: ${redactCredentials((error as Error).message, [url])} (see the workers' output)`,
      );
    }
  } finally {
    await queueEvents.close();
    await queue.close();
    await producer.close();
    connection.disconnect();
    eventsConnection.disconnect();
  }
  return result;
}

/**
 * A study phase job, run by a worker: first it queues the phase's work as its children (the runs of
 * training stages, a stage job for the others) and waits for them; when they are done it records
 * the training stages (their runs are finished, so that only checks and records).
 */
export async function runPhaseJob(
  job: Job<QueueJobData>,
  token: string | undefined,
  url: string,
): Promise<unknown> {
  const data = job.data;
  if (data.kind !== "phase") throw new CurriculaError(`job ${job.id} is no study phase`);
  const study = data.study as StudyPhaseData & { step?: "fanout" | "record" };
  const { loadStudy, DEFAULT_STUDY_FILE } = await import("./index.js");
  const { planStudy } = await import("./plan.js");
  const plan = await planStudy(loadStudy(study.file ?? DEFAULT_STUDY_FILE), study.cwd, study.configPath, {
    write: false,
  });
  const stages = studyStages(plan, { log: () => {} }).filter((s) => study.stages.includes(s.name));
  if ((study.step ?? "fanout") === "fanout") {
    const work = await pendingWork(plan, stages);
    const connection = connect(url);
    const queue = new Queue<QueueJobData>(job.queueName, { connection });
    try {
      const parent = {
        parent: { id: job.id as string, queue: job.queueQualifiedName },
        failParentOnFailure: true,
      };
      for (const { stage, specs } of work) {
        if (stage.trainOverrides) {
          for (const spec of specs) {
            await queue.add(
              "run",
              { kind: "run", spec },
              {
                ...parent,
                jobId: `${runJobId(spec)}-${job.id}`,
                attempts: 3,
                backoff: { type: "exponential", delay: 5000 },
              },
            );
          }
        } else {
          await queue.add(
            "stage",
            {
              kind: "command",
              command: { name: stage.name, args: stageArgs(study.file, study.configPath, stage.name) },
              cwd: study.cwd,
            },
            { ...parent, attempts: 2, backoff: { type: "exponential", delay: 5000 } },
          );
        }
      }
    } finally {
      await queue.close();
      connection.disconnect();
    }
    await job.updateData({ ...data, study: { ...study, step: "record" } } as QueueJobData);
    if (await job.moveToWaitingChildren(token as string)) throw new WaitingChildrenError();
  }
  for (const stage of stages.filter((s) => s.trainOverrides)) {
    await runCurricula(stageArgs(study.file, study.configPath, stage.name), study.cwd, () => {});
  }
  return { name: `phase ${data.phase} (${study.stages.join(", ")})`, status: "done" };
}
