import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../support/cli.js";
import { cli, cliAsync, differingFiles, redisUrl, until } from "./services.js";

/**
 * A 4-seed sweep through a BullMQ queue on a real Redis with two real workers, one of them killed
 * with SIGKILL while it trains: the other takes its job over, resumes the run from its checkpoint,
 * and the sweep ends with the same metrics as a local run; nothing is trained twice.
 */

const SWEEP = ["seed=1,2,3,4", "iterations=8", "batch_size=16"];
let root: string;
let url: string;
let queue: string;
const workers: { child: ChildProcess; output: string[] }[] = [];

function startWorker(cwd: string): { child: ChildProcess; output: string[] } {
  const child = spawn(
    process.execPath,
    [BIN, "worker", "--redis", url, "--queue", queue, "--lock-seconds", "3"],
    // A process group of its own: a worker is killed with its training child, as a crashed machine is.
    { cwd, env: { ...process.env, CI: "1" }, detached: true },
  );
  const output: string[] = [];
  child.stdout?.on("data", (d) => output.push(String(d)));
  child.stderr?.on("data", (d) => output.push(String(d)));
  const worker = { child, output };
  workers.push(worker);
  return worker;
}

beforeAll(() => {
  url = redisUrl();
  root = mkdtempSync(join(tmpdir(), "curricula-bullmq-"));
  // A queue of its own per test file run: a leftover job of another run cannot interfere.
  queue = `test-${process.pid}-${Date.now()}`;
});

afterAll(() => {
  for (const w of workers) {
    try {
      process.kill(-(w.child.pid as number), "SIGKILL");
    } catch {
      // the group is gone already
    }
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("--executor bullmq with two workers, one killed mid-run", () => {
  it("ends with the same metrics as locally, training nothing twice", async () => {
    const local = join(root, "local");
    const pool = join(root, "pool");
    mkdirSync(local);
    mkdirSync(pool);
    const reference = cliAsync(["train", ...SWEEP, "--jobs", "2"], local);
    const first = startWorker(pool);
    const second = startWorker(pool);
    await until(
      "both workers",
      () => [first, second].every((w) => w.output.join("").includes("on queue")),
      60_000,
    );
    const submit = cliAsync(
      ["train", ...SWEEP, "--executor", "bullmq", "--redis", url, "--queue", queue],
      pool,
    );

    // Kill the first worker once its run has a checkpoint but no result yet.
    const training = join(pool, "results", "default", "training");
    const victim = await until(
      "a checkpoint of the first worker's run",
      () => {
        // The first worker's latest run (if one finished too fast, the next one is the victim).
        const name = [...first.output.join("").matchAll(/run (\S+) \(job/g)].at(-1)?.[1];
        if (!name) return undefined;
        const dir = join(training, name);
        return existsSync(join(dir, "epoch_2", "trainer_state.json")) && !existsSync(join(dir, "metrics.csv"))
          ? name
          : undefined;
      },
      90_000,
    );
    // The worker and the training child it runs the job in (alone, the child would run on until it
    // noticed its parent gone, and on a fast machine finish the run first).
    process.kill(-(first.child.pid as number), "SIGKILL");

    const result = await submit;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/4 run\(s\): 4 trained, 0 skipped, 0 failed\./);
    expect(result.stderr).toMatch(/\[\d\/4\] done {3}Digits_FFNN/);
    expect(second.output.join("")).toContain(`run ${victim}`);

    const ref = await reference;
    expect(ref.code, ref.stderr).toBe(0);
    const a = join(local, "results", "default", "training");
    expect(
      differingFiles(a, training, (rel) => rel.endsWith("metrics.csv") || rel.endsWith("test_holistic.yaml")),
    ).toEqual([]);
    // Each run started training once; the killed one resumed from its checkpoint once.
    for (const name of readdirSync(training).filter((n) => !n.startsWith("."))) {
      const log = readFileSync(join(training, name, "training.log"), "utf8");
      expect(log.match(/^Training FFNN/gm), name).toHaveLength(1);
      expect(log.match(/^Resuming/gm)?.length ?? 0, name).toBe(name === victim ? 1 : 0);
    }

    // A rerun queues nothing: every run is finished.
    const again = cli(["train", ...SWEEP, "--executor", "bullmq", "--redis", url, "--queue", queue], pool);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/All 4 run\(s\) finished already; nothing to train/);
    second.child.kill("SIGTERM");
  }, 300_000);
});

describe("--executor bullmq: bad input", () => {
  it("Redis unreachable is a clear error, exit 1, nothing written", async () => {
    const dir = mkdtempSync(join(root, "noredis-"));
    // A port nothing listens on: a just-closed server's.
    const { createServer } = await import("node:net");
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const bad = `redis://127.0.0.1:${port}`;
    for (const args of [
      ["train", "seed=1", "iterations=2", "--executor", "bullmq", "--redis", bad],
      ["worker", "--redis", bad],
      ["study", "--executor", "bullmq", "--redis", bad],
    ]) {
      const r = cli(args, dir);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`cannot reach Redis at ${bad}: .*ECONNREFUSED`));
    }
    expect(existsSync(join(dir, "results"))).toBe(false);
  });

  it("no Redis URL at all is a usage error", () => {
    const dir = mkdtempSync(join(root, "nourl-"));
    const r = cli(["train", "seed=1", "--executor", "bullmq"], dir, { CURRICULA_REDIS_URL: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--executor bullmq needs --redis <url> \(or CURRICULA_REDIS_URL\)/);
  });
});
