import { join, resolve } from "node:path";
import { type FlowJob, FlowProducer, QueueEvents } from "bullmq";
import { composeGrid } from "../../config/compose.js";
import { curriculumDir, experimentDir } from "../../config/layout.js";
import { ScoreConfigSchema } from "../../scoring/score.js";
import { CurriculaError, UsageError } from "../../util/errors.js";
import { writeLine } from "../../util/progress.js";
import { redactCredentials } from "../../util/secrets.js";
import { checkRedis, connect, DEFAULT_QUEUE, type QueueJobData } from "./bullmq.js";
import type { ScoreSweep } from "./local.js";
import { type ClusterCommand, jobFailures, submitCommands, waitForJobs } from "./slurm.js";
import { checkPartitions } from "./slurm-commands.js";
import { parseSlurmSettings } from "./slurm-script.js";

/**
 * `curricula curriculum` on a cluster: one job per scoring config of the sweep (without the
 * correlation), then one job running the whole command again, which finds every score computed and
 * writes the correlation matrices exactly as a local run does.
 */

interface ScoreJobs {
  /** The entry config file, as messages name it. */
  source: string;
  experimentDir: string;
  cwd: string;
  slurm: Record<string, unknown> | undefined;
  points: ClusterCommand[];
  final: ClusterCommand;
}

function keyOf(override: string): string {
  return override.replace(/^[+~]+/, "").split("=")[0] as string;
}

async function scoreJobs(sweep: ScoreSweep): Promise<ScoreJobs> {
  const configName = sweep.configName ?? "curriculum";
  const cwd = resolve(sweep.cwd ?? process.cwd());
  const points = await composeGrid<Record<string, unknown>>({
    configName,
    configPath: sweep.configPath,
    overrides: sweep.overrides,
    cwd,
    schema: ScoreConfigSchema,
    partialCurriculumFilter: false,
    // As `score`: filters look at the score's folder, not a training run's.
    jobDir: (config) => {
      const scoring = ((config.curriculum as { scoring?: Record<string, unknown> } | undefined)?.scoring ??
        {}) as Record<string, unknown>;
      const root = curriculumDir(String(config.results_dir ?? "results"), String(config.experiment_id));
      return join(root, String(scoring.type ?? scoring.id), String(scoring.id));
    },
    log: null,
  });
  const first = points[0];
  if (!first) throw new UsageError("No scoring function provided.");
  const base = [
    "curriculum",
    "--config-name",
    configName,
    ...(sweep.configPath ? ["--config-path", resolve(cwd, sweep.configPath)] : []),
  ];
  const commands = points.map((point) => {
    const swept = new Set(point.overrides.map(keyOf));
    const scoring = (point.config.curriculum as { scoring?: { id?: string } } | undefined)?.scoring;
    return {
      name: `score-${scoring?.id ?? "?"}`,
      args: [
        ...base,
        ...sweep.overrides.filter((o) => !swept.has(keyOf(o)) && keyOf(o) !== "correlation"),
        ...point.overrides,
        "correlation=null",
      ],
    };
  });
  const config = first.config as {
    results_dir?: string;
    experiment_id?: string;
    slurm?: Record<string, unknown>;
  };
  return {
    source: `${configName}.yaml`,
    experimentDir: resolve(
      cwd,
      experimentDir(String(config.results_dir ?? "results"), String(config.experiment_id)),
    ),
    cwd,
    slurm: config.slurm,
    points: commands,
    final: { name: "score-correlation", args: [...base, ...sweep.overrides] },
  };
}

/** Submits the scoring sweep as SLURM jobs; with `wait`, waits for them. */
export async function submitScoresSlurm(
  sweep: ScoreSweep,
  options: { wait?: boolean; log?: ((line: string) => void) | null },
): Promise<void> {
  const log = options.log ?? writeLine;
  const jobs = await scoreJobs(sweep);
  const settings = parseSlurmSettings(jobs.slurm, jobs.source);
  checkPartitions([settings.partition], jobs.source);
  const array = submitCommands({
    experimentDir: jobs.experimentDir,
    label: "scores",
    cwd: jobs.cwd,
    settings,
    commands: jobs.points,
  });
  const sweepId = array.submitted?.jobId as string;
  log(`submitted job array ${sweepId}: ${jobs.points.map((p) => p.name).join(", ")}`);
  const final = submitCommands({
    experimentDir: jobs.experimentDir,
    label: "score-correlation",
    cwd: jobs.cwd,
    settings,
    commands: [jobs.final],
    dependencies: [sweepId],
  });
  const finalId = final.submitted?.jobId as string;
  log(`submitted the correlation as job ${finalId} (after ${sweepId})`);
  if (!options.wait) return;
  const failed = await waitForJobs([sweepId, finalId]);
  if (failed.length > 0) throw jobFailures(failed, [array, final]);
  log("scores done");
}

/** Queues the scoring sweep as a BullMQ flow (the correlation job waits for every score) and waits. */
export async function runScoresBullMQ(
  sweep: ScoreSweep,
  options: { url: string; queue?: string; log?: ((line: string) => void) | null },
): Promise<void> {
  const log = options.log ?? writeLine;
  await checkRedis(options.url);
  const jobs = await scoreJobs(sweep);
  const name = options.queue ?? DEFAULT_QUEUE;
  const job = (command: ClusterCommand): QueueJobData => ({ kind: "command", command, cwd: jobs.cwd });
  const opts = {
    attempts: 2,
    backoff: { type: "exponential" as const, delay: 5000 },
    failParentOnFailure: true,
  };
  const flow: FlowJob = {
    name: jobs.final.name,
    queueName: name,
    data: job(jobs.final),
    opts,
    children: jobs.points.map((p) => ({ name: p.name, queueName: name, data: job(p), opts })),
  };
  const connection = connect(options.url);
  const eventsConnection = connect(options.url);
  const producer = new FlowProducer({ connection });
  const events = new QueueEvents(name, { connection: eventsConnection });
  try {
    await events.waitUntilReady();
    events.on("completed", ({ returnvalue }) => {
      const value = returnvalue as unknown as { name?: string } | undefined;
      if (value?.name) log(`  done ${value.name}`);
    });
    const node = await producer.add(flow);
    log(`queued ${jobs.points.length} score job(s) and the correlation on ${name}; waiting for workers`);
    try {
      await node.job.waitUntilFinished(events);
    } catch (error) {
      throw new CurriculaError(
        `scoring failed: ${redactCredentials((error as Error).message, [options.url])} (see the workers' output)`,
      );
    }
  } finally {
    await events.close();
    await producer.close();
    connection.disconnect();
    eventsConnection.disconnect();
  }
}
