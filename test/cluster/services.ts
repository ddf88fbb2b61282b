import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BIN, type CliResult } from "../support/cli.js";

/**
 * The real services the cluster tests use. `.ci/run` starts them and exports their addresses; run
 * alone, a test starts them with the same scripts. In CI a missing service fails the tests (no
 * silent skip).
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function startService(script: "slurm" | "redis", variable: string): string {
  const given = process.env[variable];
  if (given) return given;
  if (process.env.CI) {
    throw new Error(
      `${variable} is not set: CI must start the ${script} service first (bash .ci/services/${script}.sh start, as .ci/run does)`,
    );
  }
  const r = spawnSync("bash", [join(ROOT, ".ci", "services", `${script}.sh`), "start"], { encoding: "utf8" });
  const value = new RegExp(`export ${variable}=(\\S+)`).exec(r.stdout ?? "")?.[1];
  if (r.status !== 0 || !value) {
    throw new Error(
      `could not start ${script} with .ci/services/${script}.sh start:\n${r.stderr}${r.stdout}`,
    );
  }
  process.env[variable] = value;
  return value;
}

/** The private slurm.conf of the test cluster (sets SLURM_CONF for this process and its children). */
export function slurmConf(): string {
  const conf = startService("slurm", "CURRICULA_TEST_SLURM_CONF");
  if (!existsSync(conf)) throw new Error(`CURRICULA_TEST_SLURM_CONF=${conf}: no such file`);
  process.env.SLURM_CONF = conf;
  return conf;
}

/** The test Redis (redis://127.0.0.1:<port>). */
export function redisUrl(): string {
  return startService("redis", "CURRICULA_TEST_REDIS_URL");
}

/** Runs the CLI with extra environment (no prompts, no progress bars). */
export function cli(args: readonly string[], cwd: string, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, CI: "1", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI asynchronously (several at once, e.g. a local reference run beside a cluster run). */
export function cliAsync(
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, CI: "1", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Every file under `dir` matching `test`, relative to `dir`, sorted. */
export function filesUnder(dir: string, test: (rel: string) => boolean, rel = ""): string[] {
  const out: string[] = [];
  const here = join(dir, rel);
  if (!existsSync(here)) return out;
  for (const entry of readdirSync(here, { withFileTypes: true })) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesUnder(dir, test, path));
    else if (test(path)) out.push(path);
  }
  return out.sort();
}

/** Files that differ (or exist on one side only) between two result trees. */
export function differingFiles(a: string, b: string, test: (rel: string) => boolean): string[] {
  const left = filesUnder(a, test);
  const right = filesUnder(b, test);
  const all = [...new Set([...left, ...right])].sort();
  return all.filter((f) => {
    if (!left.includes(f) || !right.includes(f)) return true;
    return !readFileSync(join(a, f)).equals(readFileSync(join(b, f)));
  });
}

/** SLURM jobs this cluster knows (pending, running or recently ended). */
export function slurmJobCount(): number {
  const r = spawnSync("squeue", ["-h", "-t", "all", "-o", "%A"], { encoding: "utf8", env: process.env });
  if (r.status !== 0) throw new Error(`squeue failed: ${r.stderr}`);
  return new Set(r.stdout.split("\n").filter(Boolean)).size;
}

export async function until<T>(
  what: string,
  fn: () => T | undefined | false,
  timeoutMs = 120_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A TCP port nobody listens on at 127.0.0.1 (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolvePromise(port));
    });
  });
}

/** A private loopback redis-server of one test (no persistence: a restart empties it). */
export interface PrivateRedis {
  url: string;
  port: number;
  /** Stops it (SIGTERM; resolves once it has exited). */
  stop(): Promise<void>;
  /** Stops it and starts an empty one on the same port. */
  restart(): Promise<void>;
}

/** Starts redis-server on a free loopback port, with `password` when given; stopped by stop(). */
export async function startPrivateRedis(dir: string, password?: string): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const args = ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"];
    if (password) args.push("--requirepass", password);
    child = spawn("redis-server", [...args, "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (d) => {
      output += d;
    });
    await until(
      "redis-server to accept connections",
      () => output.includes("Ready to accept connections"),
      30_000,
    );
  };
  const stop = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolvePromise) => {
      running.once("exit", () => resolvePromise());
      running.kill("SIGTERM");
    });
  };
  await start();
  const auth = password ? `:${encodeURIComponent(password)}@` : "";
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
  };
}
