import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, cliAsync, slurmConf, until } from "./services.js";

/**
 * SLURM's signal before the time limit (`--signal=B:USR1@<s>`, sent here by hand with
 * `scancel --signal=USR1 --batch`, which is what slurmctld does at the limit): the run checkpoints,
 * the task requeues itself, and the requeued task resumes from the checkpoint to the same result as
 * an uninterrupted run.
 */

const RUN = ["seed=7", "iterations=40", "batch_size=16"];
let root: string;

function squeue(job: string): string {
  const r = spawnSync("squeue", ["-h", "-r", "-t", "all", "-j", job, "-o", "%T|%r"], { encoding: "utf8" });
  return r.stdout.trim();
}

/** Lets a held task start now (`scontrol update StartTime=now`); a failure is retried by the caller. */
function release(job: string): void {
  spawnSync("scontrol", ["update", `JobId=${job}_0`, "StartTime=now"], { encoding: "utf8" });
}

beforeAll(() => {
  slurmConf();
  root = mkdtempSync(join(tmpdir(), "curricula-requeue-"));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("--executor slurm: checkpoint and requeue before the time limit", () => {
  it("resumes the run exactly after the signal", async () => {
    const local = join(root, "local");
    const slurm = join(root, "slurm");
    mkdirSync(local);
    mkdirSync(slurm);
    const reference = cliAsync(["train", ...RUN], local);
    const submit = cli(
      ["train", ...RUN, "--executor", "slurm", "slurm.time=10", "slurm.signal_seconds=120"],
      slurm,
    );
    expect(submit.code, submit.stderr).toBe(0);
    expect(submit.stderr).toMatch(/1 submitted/);
    const job = /submitted job array (\d+)/.exec(submit.stderr)?.[1] as string;
    const training = join(slurm, "results", "default", "training");
    const name = await until(
      "the run folder",
      () => (existsSync(training) ? readdirSync(training).find((n) => !n.startsWith(".")) : undefined),
      600_000,
    );
    const run = join(training, name);
    // Signal once the run has trained a few epochs (it has checkpoints then).
    await until("a checkpoint", () => existsSync(join(run, "epoch_3", "trainer_state.json")), 600_000);
    const signal = spawnSync("scancel", ["--signal=USR1", "--batch", `${job}_0`], { encoding: "utf8" });
    expect(signal.status, signal.stderr).toBe(0);
    // The task checkpoints at its next epoch's end and requeues itself.
    await until("the requeue", () => /^PENDING/.test(squeue(job)), 300_000);
    expect(existsSync(join(run, "metrics.csv"))).toBe(false);
    // SLURM holds a requeued task until a begin time about two minutes ahead (its job credential's
    // lifetime): release it, and again whenever it is held for its begin time (a release sent
    // before the requeue set that time is overwritten by it; a launch that fails requeues it again),
    // until the requeued task has started.
    const taskLog = (): string => {
      const dir = join(slurm, "results", "default", "jobs", "slurm");
      const batch = existsSync(dir) ? readdirSync(dir)[0] : undefined;
      const file = batch ? join(dir, batch, "logs", "task-0.out") : "";
      return file && existsSync(file) ? readFileSync(file, "utf8") : "";
    };
    let released = 0;
    await until(
      "the requeued task's start",
      () => {
        if (taskLog().includes("(restart 1)")) return true;
        if (squeue(job) === "PENDING|BeginTime" && Date.now() - released > 5000) {
          release(job);
          released = Date.now();
        }
        return false;
      },
      300_000,
    );
    // The resumed run trains as fast as the machine lets it: wait for the task's end, not a time.
    const end = await until(
      "the task's end",
      () =>
        /^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)/.exec(
          squeue(job),
        )?.[1],
      600_000,
    );
    expect(end, taskLog()).toBe("COMPLETED");
    expect(existsSync(join(run, "metrics.csv"))).toBe(true);

    const log = readFileSync(join(run, "training.log"), "utf8");
    expect(log).toMatch(/Stopping on request after epoch (\d+); the run resumes from here/);
    const stopped = Number(/Stopping on request after epoch (\d+)/.exec(log)?.[1]);
    expect(log).toContain(`Resuming FFNN on Digits after epoch ${stopped} of 40`);
    expect(stopped).toBeLessThan(40);
    expect(taskLog()).toMatch(/checkpointed before the time limit; requeueing/);
    expect(taskLog()).toMatch(/\(restart 1\)/);

    const ref = await reference;
    expect(ref.code, ref.stderr).toBe(0);
    const localRun = join(local, "results", "default", "training", name);
    for (const file of ["metrics.csv", "_test/test_holistic.yaml", "_best/dev.yaml"]) {
      expect(readFileSync(join(run, file), "utf8"), file).toBe(readFileSync(join(localRun, file), "utf8"));
    }
    const status = cli(["status", "results", "default"], slurm);
    expect(status.stdout).toMatch(/1 run\(s\): 0 queued, 0 running, 1 done, 0 failed/);
  }, 1_200_000);
});
