import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, slurmConf, until } from "./services.js";

/**
 * A task cancelled with scancel while it trains: `curricula status` shows its run as cancelled,
 * and the task's file under jobs/slurm says so too (it decides once SLURM has forgotten the job).
 */

let root: string;

function jobState(task: string): string {
  const r = spawnSync(
    "squeue",
    ["-h", "-r", "-t", "all", "-j", task.split("_")[0] as string, "-o", "%i|%T"],
    {
      encoding: "utf8",
    },
  );
  const line = r.stdout.split("\n").find((l) => l.startsWith(`${task}|`));
  return line?.split("|")[1] ?? "";
}

beforeAll(() => {
  slurmConf();
  root = mkdtempSync(join(tmpdir(), "curricula-slurm-cancel-"));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("--executor slurm: a cancelled task", () => {
  it("is shown as cancelled by status, and its task file agrees", async () => {
    const submit = cli(["train", "seed=3", "iterations=200", "batch_size=16", "--executor", "slurm"], root);
    expect(submit.code, submit.stderr).toBe(0);
    const job = /submitted job array (\d+)/.exec(submit.stderr)?.[1] as string;
    const task = `${job}_0`;
    const experiment = join(root, "results", "default");
    const batches = join(experiment, "jobs", "slurm");
    const taskFile = () => {
      const batch = existsSync(batches) ? readdirSync(batches)[0] : undefined;
      const file = batch ? join(batches, batch, "tasks", "0.json") : "";
      return file && existsSync(file)
        ? (JSON.parse(readFileSync(file, "utf8")) as { state: string })
        : undefined;
    };
    // Cancel it once it trains (it has a checkpoint then).
    const training = join(experiment, "training");
    await until(
      "a checkpoint",
      () =>
        existsSync(training) &&
        readdirSync(training).some((n) => existsSync(join(training, n, "epoch_1", "trainer_state.json"))),
      600_000,
    );
    expect(taskFile()?.state).toBe("running");
    const cancel = spawnSync("scancel", [task], { encoding: "utf8" });
    expect(cancel.status, cancel.stderr).toBe(0);
    await until("the task's end", () => jobState(task) === "CANCELLED", 300_000);
    await until("the task file's last word", () => taskFile()?.state !== "running", 300_000);
    expect(taskFile()).toMatchObject({ state: "cancelled", message: "cancelled (scancel)" });

    const status = cli(["status", "results", "default"], root);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^cancelled +run +Digits_FFNN\\S+ +${task} +log: `, "m"));
    expect(status.stdout).toMatch(/1 run\(s\): 0 queued, 0 running, 0 done, 0 failed, 1 cancelled/);
  }, 1_200_000);
});
