import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { BullMQExecutor } from "../../src/experiments/executors/bullmq.js";
import type { RunSpec } from "../../src/experiments/run-spec.js";
import { BIN } from "../support/cli.js";
import {
  cli,
  cliAsync,
  differingFiles,
  filesUnder,
  freePort,
  type PrivateRedis,
  startPrivateRedis,
  until,
} from "./services.js";

/**
 * Redis faults, each against a real redis-server of this file on a free loopback port: a password
 * in the Redis URL is never shown (submitter, worker, errors, files); a Redis restarted without
 * persistence mid-sweep loses its queue, and the submitter queues the lost runs again and ends as a
 * local sweep does; a Redis that stays away fails the submitter with a clear message.
 */

const PASSWORD = "Kq7-pw-x93zT";
const RUN = ["iterations=6", "batch_size=16"];
let root: string;
const workers: { child: ChildProcess; output: string[] }[] = [];
const servers: PrivateRedis[] = [];

function startWorker(cwd: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, "worker", "--lock-seconds", "3", ...args], {
    cwd,
    env: { ...process.env, CI: "1", ...env },
  });
  const output: string[] = [];
  child.stdout?.on("data", (d) => output.push(String(d)));
  child.stderr?.on("data", (d) => output.push(String(d)));
  const worker = { child, output };
  workers.push(worker);
  return worker;
}

async function stopWorker(worker: { child: ChildProcess }): Promise<void> {
  if (worker.child.exitCode !== null) return;
  await new Promise<void>((resolvePromise) => {
    worker.child.once("exit", () => resolvePromise());
    worker.child.kill("SIGTERM");
  });
}

async function redis(password?: string): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(root, "redis-"));
  const server = await startPrivateRedis(dir, password);
  servers.push(server);
  return server;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "curricula-redis-faults-"));
});

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
  await Promise.all(servers.map((s) => s.stop()));
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("a password in the Redis URL", () => {
  it("is never shown: not by the submitter, the worker, an unreachable Redis, nor in any file", async () => {
    const server = await redis(PASSWORD);
    expect(server.url).toContain(PASSWORD);
    const dir = join(root, "masked");
    mkdirSync(dir);
    const queue = `mask-${process.pid}`;
    const shown: string[] = [];
    // The worker takes the URL from CURRICULA_REDIS_URL, the first submitter from --redis.
    const worker = startWorker(dir, ["--queue", queue], { CURRICULA_REDIS_URL: server.url });
    await until("the worker's banner", () => worker.output.join("").includes("on queue"), 60_000);
    const submit = await cliAsync(
      ["train", "seed=1", ...RUN, "--executor", "bullmq", "--redis", server.url, "--queue", queue],
      dir,
    );
    expect(submit.code, submit.stderr).toBe(0);
    shown.push(submit.stdout, submit.stderr);
    const again = cli(["train", "seed=1", ...RUN, "--executor", "bullmq", "--queue", queue], dir, {
      CURRICULA_REDIS_URL: server.url,
    });
    expect(again.code, again.stderr).toBe(0);
    shown.push(again.stdout, again.stderr);
    const status = cli(["status", "results", "default", "--queue", queue], dir, {
      CURRICULA_REDIS_URL: server.url,
    });
    expect(status.code, status.stderr).toBe(0);
    shown.push(status.stdout, status.stderr);
    await stopWorker(worker);
    shown.push(worker.output.join(""));
    // The URLs are shown, masked.
    expect(submit.stderr).toMatch(/queueing 1 run\(s\) on mask-\d+ at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/);
    expect(worker.output.join("")).toMatch(/on queue mask-\d+ at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/);

    // Unreachable (nothing listens) and refused (a wrong password), from the flag and from the variable.
    const closed = `redis://:${PASSWORD}@127.0.0.1:${await freePort()}`;
    const wrong = server.url.replace(PASSWORD, `${PASSWORD}-wrong`);
    for (const url of [closed, wrong]) {
      const commands: [string[], Record<string, string>][] = [
        [["train", "seed=2", ...RUN, "--executor", "bullmq", "--redis", url], {}],
        [["train", "seed=2", ...RUN, "--executor", "bullmq"], { CURRICULA_REDIS_URL: url }],
        [["worker", "--redis", url], {}],
        [["worker"], { CURRICULA_REDIS_URL: url }],
        [["status", "results", "default", "--redis", url], {}],
        [["study", "--executor", "bullmq"], { CURRICULA_REDIS_URL: url }],
      ];
      for (const [args, env] of commands) {
        const r = cli(args, dir, env);
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: /);
        shown.push(r.stdout, r.stderr);
      }
    }
    // A URL that is no Redis URL is quoted masked too.
    const notRedis = cli(["worker", "--redis", `http://:${PASSWORD}@127.0.0.1:1`], dir);
    expect(notRedis.code).toBe(2);
    expect(notRedis.stderr).toContain("got 'http://:***@127.0.0.1:1'");
    shown.push(notRedis.stderr);

    for (const text of shown) expect(text).not.toContain(PASSWORD);
    const files = filesUnder(dir, () => true);
    expect(files.some((f) => f.endsWith("metrics.csv"))).toBe(true);
    for (const file of files) expect(readFileSync(join(dir, file), "latin1"), file).not.toContain(PASSWORD);
  }, 600_000);
});

describe("a Redis restarted without persistence while a sweep runs", () => {
  it("the submitter queues the lost runs again and the sweep ends as locally", async () => {
    const server = await redis();
    const local = join(root, "local");
    const pool = join(root, "pool");
    mkdirSync(local);
    mkdirSync(pool);
    const queue = `restart-${process.pid}`;
    const sweep = ["seed=1,2", ...RUN];
    const reference = cliAsync(["train", ...sweep], local);
    const worker = startWorker(pool, ["--redis", server.url, "--queue", queue]);
    await until("the worker's banner", () => worker.output.join("").includes("on queue"), 60_000);
    const submit = cliAsync(
      ["train", ...sweep, "--executor", "bullmq", "--redis", server.url, "--queue", queue],
      pool,
    );
    // Restart Redis (empty) once the first run has a checkpoint: both runs' jobs are lost.
    const training = join(pool, "results", "default", "training");
    await until(
      "a checkpoint",
      () =>
        existsSync(training) &&
        readdirSync(training).some((n) => existsSync(join(training, n, "epoch_2", "trainer_state.json"))),
      300_000,
    );
    await server.restart();

    const result = await submit;
    expect(result.code, result.stderr).toBe(0);
    const said = result.stdout + result.stderr;
    expect(said).toMatch(
      /Redis no longer has [12] queued run\(s\) \(was it restarted without persistence\?\)/,
    );
    expect(said).toMatch(/2 run\(s\): \d trained, \d skipped, 0 failed\./);
    // No stack traces of the Redis client, from the submitter or the worker.
    const workerSaid = worker.output.join("");
    for (const text of [said, workerSaid]) {
      expect(text).not.toMatch(/Unhandled error event/);
      expect(text).not.toMatch(/^\s+at /m);
    }
    await stopWorker(worker);

    const ref = await reference;
    expect(ref.code, ref.stderr).toBe(0);
    const a = join(local, "results", "default", "training");
    expect(filesUnder(training, (rel) => rel.endsWith("metrics.csv"))).toHaveLength(2);
    expect(
      differingFiles(a, training, (rel) => rel.endsWith("metrics.csv") || rel.endsWith("test_holistic.yaml")),
    ).toEqual([]);
  }, 600_000);

  it("a Redis that stays away fails the submitter with a clear message after the deadline", async () => {
    const server = await redis(PASSWORD);
    const errors = vi.spyOn(console, "error");
    const lines: string[] = [];
    const spec = { name: "waits", runDir: join(root, "never", "waits") } as unknown as RunSpec;
    const executor = new BullMQExecutor({
      url: server.url,
      queue: `gone-${process.pid}`,
      log: (line) => lines.push(line),
      unreachableMs: 2000,
      checkMs: 250,
    });
    const running = executor.run([spec]);
    const outcome = expect(running).rejects.toThrow(
      /^lost Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ for \d+ s \(.+\); the runs' folders keep what was trained: run the command again once Redis is back$/,
    );
    await until("the run's job", () => lines.some((l) => l.startsWith("queued 1 run(s)")), 60_000);
    await server.stop();
    await outcome;
    expect(lines.join("\n")).not.toContain(PASSWORD);
    expect(errors.mock.calls.flat().join(" ")).not.toMatch(/ioredis|ECONNREFUSED/);
  }, 120_000);
});
