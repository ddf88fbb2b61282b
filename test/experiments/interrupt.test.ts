import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, runCli } from "../support/cli.js";
import { childPids, findNamed, isAlive, waitFor } from "../support/processes.js";

/**
 * A signal to `curricula train --jobs 2` is passed on to its worker processes, which stop after
 * their run's next checkpoint; the command waits for them before it says they stopped. Workers
 * whose parent is SIGKILLed stop by themselves. (These tests spawn the built CLI.)
 */

const SWEEP = ["train", "iterations=30", "seed=1,2", "--jobs", "2", "--no-progress"];

function start(cwd: string): {
  child: ChildProcess;
  output: () => string;
  closed: Promise<[number | null, string | null]>;
} {
  const child = spawn(process.execPath, [BIN, ...SWEEP], { cwd, env: { ...process.env, CI: "1" } });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const closed = new Promise<[number | null, string | null]>((resolve) =>
    child.on("close", (code, signal) => resolve([code, signal])),
  );
  return { child, output: () => output, closed };
}

/** Waits until both runs saved a checkpoint (both workers train), then returns the worker pids. */
async function bothTraining(cwd: string, parent: number): Promise<number[]> {
  const training = join(cwd, "results", "default", "training");
  await waitFor(
    () => {
      const runs = existsSync(training) ? readdirSync(training).filter((n) => !n.startsWith(".")) : [];
      return (
        runs.length === 2 && runs.every((r) => existsSync(join(training, r, "epoch_1", "trainer_state.json")))
      );
    },
    120_000,
    "both runs to save their first checkpoint",
  );
  const workers = childPids(parent);
  expect(workers).toHaveLength(2);
  return workers;
}

describe("signals and train --jobs 2", () => {
  it("SIGINT stops both workers at a checkpoint, waits for them, leaves no temporary folder; a rerun completes", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "curricula-sigint-"));
    const run = start(cwd);
    const workers = await bothTraining(cwd, run.child.pid as number);
    run.child.kill("SIGINT");
    const [code, signal] = await run.closed;
    // The command said it stopped only once no worker was left.
    const alive = workers.filter(isAlive);
    expect(alive, run.output()).toEqual([]);
    expect(code === 130 || signal === "SIGINT", `code ${code}, signal ${signal}`).toBe(true);
    expect(run.output()).toMatch(/Interrupted \(SIGINT\): stopped\. Run the same command again to resume\./);
    const results = join(cwd, "results");
    expect(findNamed(results, ".tmp-")).toEqual([]);
    const training = join(results, "default", "training");
    const runs = readdirSync(training).filter((n) => !n.startsWith("."));
    for (const r of runs) {
      if (existsSync(join(training, r, "metrics.csv"))) continue;
      expect(readFileSync(join(training, r, "training.log"), "utf8")).toMatch(/Stopping on request/);
    }
    expect(readdirSync(join(training, ".locks"))).toEqual([]);
    const rerun = runCli(SWEEP, cwd);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/2 run\(s\): \d trained, \d skipped, 0 failed/);
    for (const r of runs) expect(existsSync(join(training, r, "metrics.csv")), r).toBe(true);
  }, 300_000);

  it("workers whose parent was SIGKILLed stop by themselves, without a temporary folder", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "curricula-sigkill-"));
    const run = start(cwd);
    const workers = await bothTraining(cwd, run.child.pid as number);
    run.child.kill("SIGKILL");
    await run.closed;
    await waitFor(() => workers.every((pid) => !isAlive(pid)), 60_000, "the orphaned workers to exit");
    expect(findNamed(join(cwd, "results"), ".tmp-")).toEqual([]);
    // They stopped at a safe point (after a checkpoint), not wherever the parent's death found them.
    const training = join(cwd, "results", "default", "training");
    for (const r of readdirSync(training).filter((n) => !n.startsWith("."))) {
      if (existsSync(join(training, r, "metrics.csv"))) continue;
      expect(readFileSync(join(training, r, "training.log"), "utf8"), r).toMatch(/Stopping on request/);
    }
    expect(readdirSync(join(training, ".locks"))).toEqual([]);
  }, 300_000);
});
