import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { stringify } from "yaml";
import { runDir } from "../../src/config/layout.js";
import type { RunConfig } from "../../src/config/schema.js";
import { InProcessExecutor, LocalProcessExecutor } from "../../src/experiments/executors/local.js";
import { acquireLock, lockPath, type RunSpec, type TrainFunction } from "../../src/experiments/run-spec.js";
import { train } from "../../src/experiments/train.js";
import { inspectRunFolder } from "../../src/training/resume.js";
import { CurriculaError } from "../../src/util/errors.js";
import { setProgressStream } from "../../src/util/progress.js";
import { FakeTerminal } from "../support/fake-terminal.js";
import { collector, tempProject } from "../support/project.js";

const FAKE_TRAIN = fileURLToPath(new URL("./fixtures/fake-train.mjs", import.meta.url));
const SLOW_TRAIN = fileURLToPath(new URL("./fixtures/slow-train.mjs", import.meta.url));

/** A fake trainer writing the files that mark a finished run; counts its calls. */
function fakeTrainer(fail: (config: RunConfig) => boolean = () => false): {
  train: TrainFunction;
  calls: string[];
} {
  const calls: string[] = [];
  const fn: TrainFunction = async (config, options) => {
    calls.push(options.runDir);
    mkdirSync(options.runDir, { recursive: true });
    writeFileSync(join(options.runDir, "config.yaml"), stringify(config));
    if (fail(config)) throw new Error(`boom for seed ${config.seed}`);
    writeFileSync(join(options.runDir, "metrics.csv"), "accuracy,iteration\n1,1\n");
    return {
      runDir: options.runDir,
      skipped: false,
      bestIteration: 1,
      best: { accuracy: 1 },
      test: { accuracy: 1 },
    };
  };
  return { train: fn, calls };
}

describe("train: skip and config mismatch", () => {
  it("trains each grid point once and skips finished runs on the next call", async () => {
    const cwd = tempProject();
    const fake = fakeTrainer();
    const { log } = collector();
    const first = await train({
      cwd,
      log,
      overrides: ["seed=1,2,3"],
      executor: new InProcessExecutor({ train: fake.train }),
    });
    expect(first.trained).toHaveLength(3);
    expect(fake.calls).toHaveLength(3);
    const second = await train({
      cwd,
      log,
      overrides: ["seed=1,2,3"],
      executor: new InProcessExecutor({ train: fake.train }),
    });
    expect(second.trained).toHaveLength(0);
    expect(second.skipped.map((s) => s.name.endsWith(String(second.skipped.indexOf(s) + 1)))).toEqual([
      true,
      true,
      true,
    ]);
    expect(fake.calls).toHaveLength(3);
  });

  it("refuses a run folder whose saved config differs, saying what differs, and trains nothing", async () => {
    const cwd = tempProject();
    const fake = fakeTrainer();
    const executor = new InProcessExecutor({ train: fake.train });
    await train({ cwd, log: null, overrides: ["seed=1"], executor });
    const error = await train({
      cwd,
      log: null,
      overrides: ["seed=1,2", "dataset.dev_split=0.3"],
      executor,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(CurriculaError);
    expect(error.message).toMatch(/dataset\.dev_split: 0\.2 \(saved\) vs 0\.3 \(requested\)/);
    expect(error.message).toMatch(/nothing was trained/);
    expect(fake.calls).toHaveLength(1);
  });

  it("classifies run folders as new, unfinished or finished", () => {
    const cwd = tempProject();
    const config = { seed: 1 } as unknown as RunConfig;
    const dir = join(cwd, "run");
    expect(inspectRunFolder(dir, config)).toBe("new");
    writeFileSync(join(cwd, "metrics.csv"), "");
    expect(() => inspectRunFolder(cwd, config)).toThrow(/config\.yaml: missing beside metrics\.csv/);
  });

  it("keeps training the other runs when one fails, and lists the failure", async () => {
    const cwd = tempProject();
    const fake = fakeTrainer((c) => c.seed === 2);
    const { lines, log } = collector();
    const summary = await train({
      cwd,
      log,
      overrides: ["seed=1,2,3"],
      executor: new InProcessExecutor({ train: fake.train }),
    });
    expect(summary.trained).toHaveLength(2);
    expect(summary.failed).toHaveLength(1);
    expect(summary.failed[0]?.error).toMatch(/^boom for seed 2/);
    expect(lines.some((l) => /FAILED +\S+_2: boom for seed 2/.test(l))).toBe(true);
    expect(lines.join("\n")).toMatch(/Failed runs:\n {2}Digits.*_2/);
    // the failed run resumes (trains again) next time; the others are skipped
    const again = await train({
      cwd,
      log: null,
      overrides: ["seed=1,2,3"],
      executor: new InProcessExecutor({ train: fakeTrainer().train }),
    });
    expect(again.trained.map((t) => t.name.slice(-1))).toEqual(["2"]);
    expect(again.skipped).toHaveLength(2);
  });

  it("does not train a run another live process holds the lock of", async () => {
    const cwd = tempProject();
    const dir = join(
      cwd,
      runDir("results", "default", "Digits_FFNN_Adam_0.001_32_epoch_10_None_None_N_N_None_None_1_0_1"),
    );
    const lock = acquireLock(dir);
    expect("release" in lock).toBe(true);
    const fake = fakeTrainer();
    const summary = await train({ cwd, log: null, executor: new InProcessExecutor({ train: fake.train }) });
    expect(summary.busy).toHaveLength(1);
    expect(fake.calls).toHaveLength(0);
    if ("release" in lock) lock.release();
    expect(existsSync(lockPath(dir))).toBe(false);
  });

  it("takes over a stale lock left by a dead process", () => {
    const cwd = tempProject();
    const dir = join(cwd, "training", "run");
    const path = lockPath(dir);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), started: "then" }));
    const lock = acquireLock(dir);
    expect("release" in lock).toBe(true);
    if ("release" in lock) lock.release();
  });
});

function specs(cwd: string, seeds: number[]): RunSpec[] {
  return seeds.map((seed) => ({
    name: `run${seed}`,
    runDir: join(cwd, "results", "default", "training", `run${seed}`),
    config: { seed } as unknown as RunConfig,
  }));
}

describe("LocalProcessExecutor (worker processes, needs dist/ built)", () => {
  it("runs specs in parallel workers, isolates a failing run and a crashing worker", async () => {
    const cwd = tempProject();
    const executor = new LocalProcessExecutor({ jobs: 2, trainModule: FAKE_TRAIN });
    const started: string[] = [];
    const outcomes = await executor.run(specs(cwd, [1, 13, 66, 4, 5]), {
      onStart: (s) => started.push(s.name),
    });
    expect(outcomes.map((o) => o.status)).toEqual(["trained", "failed", "failed", "trained", "trained"]);
    expect(outcomes[1]?.error).toMatch(/^seed 13 is unlucky/);
    expect(outcomes[2]?.error).toMatch(/worker process exited \(code 7\)/);
    expect(started.sort()).toEqual(["run1", "run13", "run4", "run5", "run66"]);
    for (const seed of [1, 4, 5]) {
      const log = readFileSync(
        join(cwd, "results", "default", "training", `run${seed}`, "training.log"),
        "utf8",
      );
      expect(log.trim().split("\n")).toHaveLength(1);
      expect(existsSync(join(cwd, "results", "default", "training", `run${seed}`, "metrics.csv"))).toBe(true);
    }
    expect(existsSync(join(cwd, "results", "default", "training", ".locks", "run1.lock"))).toBe(false);
  });

  it("with several jobs, prints a status line per running run every few seconds", async () => {
    const cwd = tempProject();
    const { lines, log } = collector();
    const summary = await train({
      cwd,
      log,
      jobs: 2,
      statusInterval: 0.3,
      overrides: ["seed=1,2"],
      executor: new LocalProcessExecutor({ jobs: 2, trainModule: SLOW_TRAIN }),
    });
    expect(summary.trained).toHaveLength(2);
    for (const seed of [1, 2]) {
      const status = lines.filter((l) => new RegExp(`^\\[${seed}/2\\] \\S+_${seed}: `).test(l));
      expect(status.length, lines.join("\n")).toBeGreaterThanOrEqual(2);
      expect(
        status.some((l) => /: Train \d+\/12 \(\d+%\) [\d.]+ batches\/s ETA \d+s epoch 1\/1 loss /.test(l)),
      ).toBe(true);
    }
  });

  it("with several jobs on a terminal, shows a live line per running run below the messages", async () => {
    const cwd = tempProject();
    const term = new FakeTerminal();
    vi.stubEnv("CI", "");
    setProgressStream(term);
    try {
      // No log: messages go through writeLine, so the run lines are live on the (fake) terminal.
      const summary = await train({
        cwd,
        jobs: 2,
        overrides: ["seed=1,2"],
        executor: new LocalProcessExecutor({ jobs: 2, trainModule: SLOW_TRAIN }),
      });
      expect(summary.trained).toHaveLength(2);
    } finally {
      setProgressStream(null);
      vi.unstubAllEnvs();
    }
    // The first run's live line was drawn (by a redraw, or below the second run's start message).
    expect(term.out).toMatch(/\[1\/2\] \S+_1: (starting \(\d+s\)|Train \d+\/12 )/);
    const screen = term.screen();
    // At the end only the messages are left (each run's start before its end), and no live line.
    expect(screen.filter((l) => /^\[\d\/2\] \S+: /.test(l))).toEqual([]);
    const messages = screen.filter((l) => /^\[\d\/2\] (start|done) /.test(l)).map((l) => l.slice(0, 12));
    expect([...messages].sort()).toEqual(["[1/2] done  ", "[1/2] start ", "[2/2] done  ", "[2/2] start "]);
    for (const run of ["[1/2]", "[2/2]"]) {
      expect(messages.indexOf(`${run} start `)).toBeLessThan(messages.indexOf(`${run} done  `));
    }
    expect(screen[screen.length - 1]).toBe("2 run(s): 2 trained, 0 skipped, 0 failed.");
  });

  it("fails every run with a clear message when the worker cannot start", async () => {
    const cwd = tempProject();
    const executor = new LocalProcessExecutor({ jobs: 2, trainModule: join(cwd, "missing.mjs") });
    const outcomes = await executor.run(specs(cwd, [1, 2, 3]));
    expect(outcomes.map((o) => o.status)).toEqual(["failed", "failed", "failed"]);
    expect(outcomes[2]?.error).toMatch(/no worker could run it/);
  });
});
