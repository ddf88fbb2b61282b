import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compareResults } from "../../scripts/results-compare.mjs";
import { BIN, runCli } from "../support/cli.js";
import { groupPids, waitFor } from "../support/processes.js";

/**
 * Issue 18's kill tests with the built CLI: a score ensemble and a small study, SIGKILLed (the
 * whole process group, as a crash or a cancelled job does) at moments drawn from a seeded generator
 * over the files an uninterrupted run writes ("after the k-th file appears"), then rerun without
 * --force, end with results identical to the uninterrupted run's (timing fields aside, as
 * scripts/compare-results.mjs compares). `npm test` builds dist first.
 */
const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "curricula-kill-"));
  roots.push(dir);
  return dir;
}

/** Files of a results tree (relative paths), leaving out temporary files of atomic writes and locks. */
function filesOf(dir: string, rel = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === ".locks" || /\.tmp-\d+-[0-9a-f]+$/.test(entry.name)) return [];
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesOf(join(dir, entry.name), path) : [path];
  });
}

/** The CLI as a process group of its own (so the whole group can be killed), output collected. */
function start(cwd: string, args: readonly string[]): { child: ChildProcess; output: string[] } {
  const child = spawn(process.execPath, [BIN, "--no-progress", ...args], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CI: "1" },
  });
  const output: string[] = [];
  child.stdout?.on("data", (b: Buffer) => output.push(b.toString()));
  child.stderr?.on("data", (b: Buffer) => output.push(b.toString()));
  return { child, output };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode);
    else child.on("close", (code) => done(code));
  });
}

/** Polls `check` every 10 ms until it holds (true) or the child exits (false). */
async function until(child: ChildProcess, check: () => boolean): Promise<boolean> {
  let exited = false;
  void exitOf(child).then(() => {
    exited = true;
  });
  while (!exited) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

/** An uninterrupted run; returns the order in which its files appeared under `results`. */
async function reference(cwd: string, args: readonly string[]): Promise<string[]> {
  const results = join(cwd, "results");
  const seen = new Set(filesOf(results));
  const order: string[] = [];
  const { child, output } = start(cwd, args);
  const record = () => {
    for (const f of filesOf(results)) {
      if (!seen.has(f)) {
        seen.add(f);
        order.push(f);
      }
    }
  };
  await until(child, () => {
    record();
    return false;
  });
  record();
  expect(await exitOf(child), output.join("")).toBe(0);
  // Only files the finished tree holds are moments: a file written and removed again (a run's
  // resume snapshots, dropped once its metrics.csv exists) is never written by an attempt that
  // starts after its run finished, so waiting for it would let the attempt run to the end unkilled.
  return order.filter((f) => existsSync(join(results, f)));
}

/**
 * Waits until no live process of the process group `pgid` is left (zombies count as gone), so the
 * next attempt never meets a lock of a process that is still being killed.
 */
async function groupGone(pgid: number): Promise<void> {
  await waitFor(() => groupPids(pgid).length === 0, 60_000, `process group ${pgid} to be gone after SIGKILL`);
}

/** mulberry32: a small seeded generator, so the kill moments are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct positions in 0 … n−2 (never the last file), ascending. */
function killPoints(n: number, count: number, seed: number): number[] {
  const random = seeded(seed);
  const points = new Set<number>();
  while (points.size < Math.min(count, n - 1)) points.add(Math.floor(random() * (n - 1)));
  return [...points].sort((a, b) => a - b);
}

/**
 * Runs the command again and again, SIGKILLing its process group once the file `order[k]` exists,
 * for each k of `points`; then runs it to the end.
 * A moment an attempt never reaches (it finished first: a kill lands late when the machine is
 * fast, so the next attempt has little left) is replaced by a seeded moment among the files not
 * written yet, until `minKills` attempts were killed or nothing is left to write. Returns how many
 * attempts were killed before they finished.
 */
async function killAndRerun(
  cwd: string,
  args: readonly string[],
  order: readonly string[],
  points: readonly number[],
  afterKill: (results: string) => void = () => {},
  minKills = 5,
): Promise<number> {
  const results = join(cwd, "results");
  const random = seeded(points.length * 7919 + order.length);
  const queue = [...points];
  let kills = 0;
  for (let attempt = 0; attempt < points.length + 12; attempt++) {
    // A moment is a file the attempt has still to write, so its appearing is the attempt's own
    // progress and one existsSync tells it (a listing of the whole tree per poll was slow enough
    // that a fast attempt finished between two looks). A seeded point whose file an earlier attempt
    // already wrote, or the extra moments while kills are short, are drawn from the first third of
    // what is still to be written (never the last file).
    const missing = order.slice(0, -1).filter((f) => !existsSync(join(results, f)));
    if (missing.length === 0) break;
    let k = queue.shift();
    if (k === undefined && kills >= minKills) break;
    if (k === undefined || existsSync(join(results, order[k] as string))) {
      k = order.indexOf(
        missing[Math.floor(random() * Math.max(1, Math.floor(missing.length / 3)))] as string,
      );
    }
    const target = join(results, order[k] as string);
    const { child, output } = start(cwd, args);
    const reached = await until(child, () => existsSync(target));
    if (!reached) {
      // It finished before the moment came; a rerun after a kill never fails.
      expect(await exitOf(child), `attempt ${attempt} (moment ${order[k]}):\n${output.join("")}`).toBe(0);
      continue;
    }
    process.kill(-(child.pid as number), "SIGKILL");
    await exitOf(child);
    await groupGone(child.pid as number);
    kills++;
    afterKill(results);
  }
  const last = start(cwd, args);
  expect(await exitOf(last.child), last.output.join("")).toBe(0);
  return kills;
}

describe("SIGKILL at random moments, then rerun without --force", () => {
  it("a 2-run CELoss ensemble ends identical to an uninterrupted score", async () => {
    const ref = tempDir();
    const trained = runCli(
      ["train", "dataset=Digits", "model=FFNN", "iterations=2", "seed=1,2", "--no-progress"],
      ref,
    );
    expect(trained.code, trained.stderr).toBe(0);
    const training = join(ref, "results", "default", "training");
    const runs = readdirSync(training).filter((n) => !n.startsWith("."));
    expect(runs).toHaveLength(2);
    const killed = tempDir();
    cpSync(join(ref, "results"), join(killed, "results"), { recursive: true });
    const args = [
      "curriculum",
      "curriculum/scoring=CELoss",
      `curriculum.scoring.run_name=[${runs.join(",")}]`,
    ];
    const order = await reference(ref, args);
    // The defect reported: a kill once CELoss.csv exists (before its card); and 5 seeded moments.
    const csv = order.indexOf("default/curriculum/CELoss/CELoss.csv");
    expect(csv).toBeGreaterThan(0);
    const points = [...new Set([...killPoints(order.length, 5, 18), csv])].sort((a, b) => a - b);
    let orphans = 0;
    const kills = await killAndRerun(killed, args, order, points, (results) => {
      const type = join(results, "default", "curriculum", "CELoss");
      if (existsSync(join(type, "CELoss.csv")) && !existsSync(join(type, "CELoss.yaml"))) orphans++;
    });
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(orphans, "no kill left a score file without its card").toBeGreaterThanOrEqual(1);
    const { same, differences } = compareResults(join(ref, "results"), join(killed, "results"));
    expect(differences).toEqual([]);
    expect(same).toBeGreaterThan(10);
  }, 600_000);

  it("a small study ends identical to an uninterrupted study", async () => {
    const study = [
      "results_dir: results",
      "experiment_id: kill",
      "training:",
      "  dataset: Digits",
      "  model: FFNN",
      "  iterations: 2",
      "seeds: [1, 2]",
      "scoring:",
      "  CELoss: {}",
      "curriculum:",
      "  scoring: CELoss",
      "  orderings: [Curriculum]",
      "fusion: false",
      "report: false",
      "",
    ].join("\n");
    const ref = tempDir();
    const killed = tempDir();
    for (const dir of [ref, killed]) writeFileSync(join(dir, "study.yaml"), study);
    const args = ["study", "study.yaml"];
    const order = await reference(ref, args);
    const kills = await killAndRerun(killed, args, order, killPoints(order.length, 6, 1804));
    expect(kills).toBeGreaterThanOrEqual(5);
    const { same, differences } = compareResults(join(ref, "results"), join(killed, "results"));
    expect(differences).toEqual([]);
    expect(same).toBeGreaterThan(50);
  }, 900_000);
});
