import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { checkWritable, ensureDir, UnwritableLocationError } from "../../src/util/dirs.js";
import { runCli } from "../support/cli.js";

/**
 * Unwritable locations fail at once with the path: Node's recursive mkdir retries forever below
 * /proc, so these run in child processes (a hang is then a failed test, not a stuck suite).
 */
const cwd = mkdtempSync(join(tmpdir(), "curricula-unwritable-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));
const API = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

/** Runs `train` of the built library in a child process; returns its error and how long it took. */
function trainInChild(overrides: string[]): { ms: number; message: string; code: number | null } {
  const script = `
    const { train } = await import(${JSON.stringify(API)});
    const started = performance.now();
    try {
      await train({ overrides: ${JSON.stringify(overrides)}, log: null });
      console.log(JSON.stringify({ ms: performance.now() - started, message: "no error" }));
    } catch (error) {
      console.log(JSON.stringify({ ms: performance.now() - started, message: error.message }));
    }`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd,
    encoding: "utf8",
    timeout: 30_000,
  });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  const parsed = line.startsWith("{") ? (JSON.parse(line) as { ms: number; message: string }) : null;
  return { ms: parsed?.ms ?? Number.POSITIVE_INFINITY, message: parsed?.message ?? r.stderr, code: r.status };
}

describe("unwritable locations", () => {
  it("ensureDir fails below /proc and below a file, naming the folder and the level", () => {
    expect(() => ensureDir("/proc/curricula-x/a/b")).toThrow(UnwritableLocationError);
    expect(() => ensureDir("/proc/curricula-x/a/b")).toThrow(
      /cannot create folder \/proc\/curricula-x\/a\/b \(at \/proc\/curricula-x\): ENOENT/,
    );
    const file = join(cwd, "a-file");
    writeFileSync(file, "x");
    expect(() => ensureDir(join(file, "sub"))).toThrow(/\(at .*a-file\): it exists and is not a folder/);
    expect(() => checkWritable(join(file, "sub"))).toThrow(/it exists and is not a folder/);
    const fresh = join(cwd, "x", "y", "z");
    ensureDir(fresh);
    ensureDir(fresh);
    checkWritable(join(fresh, "more"));
  });

  it("train with results_dir=/proc/x fails in under a second with the path", () => {
    const r = trainInChild(["results_dir=/proc/x", "iterations=1"]);
    expect(r.code).toBe(0);
    expect(r.message).toMatch(/cannot create folder \/proc\/x\/default\/training \(at \/proc\): ENOENT/);
    expect(r.ms).toBeLessThan(1000);
  });

  it("the CLI exits 1 with the path for /proc and for a results_dir below a file", () => {
    const proc = spawnSync(
      process.execPath,
      [fileURLToPath(new URL("../../bin/curricula.js", import.meta.url)), "train", "results_dir=/proc/x"],
      { cwd, encoding: "utf8", timeout: 30_000, env: { ...process.env, CI: "1" } },
    );
    expect(proc.status, proc.stderr).toBe(1);
    expect(proc.stderr).toMatch(/error: cannot create folder \/proc\/x\/default\/training/);
    writeFileSync(join(cwd, "blocker"), "x");
    const below = runCli(["train", "results_dir=blocker/results"], cwd);
    expect(below.code).toBe(1);
    expect(below.stderr).toMatch(
      /cannot create folder .*blocker\/results\/default\/training \(at .*blocker\): it exists and is not a folder/,
    );
  });
});
