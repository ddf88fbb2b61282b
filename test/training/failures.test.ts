import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainRunWith } from "../../src/assembly/train-run.js";
import type { TrainCallback } from "../../src/training/types.js";
import { runCli } from "../support/cli.js";
import { fakeDeps } from "./fakes.js";
import { blobConfig, crashAt, tempDir } from "./helpers.js";

/**
 * A failed run leaves either no folder (refused before training began: nothing to resume) or a
 * folder whose training.log holds the error; the failure summary points at a log that exists.
 */
const root = tempDir("failures");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const refuse: TrainCallback = {
  name: "refuse",
  onTrainBegin: () => {
    throw new Error("the score file does not match the training data");
  },
};
const crash = crashAt(2);

describe("failed runs", () => {
  it("a fresh run refused in its setup leaves no run folder", async () => {
    const dir = join(root, "refused");
    await expect(
      trainRunWith(fakeDeps(), blobConfig({ iterations: 3 }), {
        runDir: dir,
        log: null,
        progress: false,
        callbacks: [refuse],
      }),
    ).rejects.toThrow(/does not match the training data/);
    expect(existsSync(dir)).toBe(false);
  });

  it("a run that fails while training keeps its folder, and training.log ends with the error", async () => {
    const dir = join(root, "crashed");
    await expect(
      trainRunWith(fakeDeps(), blobConfig({ iterations: 3 }), {
        runDir: dir,
        log: null,
        progress: false,
        callbacks: [crash],
      }),
    ).rejects.toThrow(/simulated crash at 2/);
    const log = readFileSync(join(dir, "training.log"), "utf8").trim().split("\n");
    expect(log.at(-1)).toBe("Failed: simulated crash at 2");
  });

  it("the CLI: a curriculum run without its score file leaves no folder, and the summary says so", () => {
    const cwd = mkdtempSync(join(tmpdir(), "curricula-refused-"));
    try {
      const r = runCli(
        [
          "train",
          "curriculum=Curriculum",
          "curriculum/scoring=CELoss",
          "curriculum/pacing=Linear",
          "curriculum/sampling=Balanced",
          "curriculum.pacing.initial_size=0.2",
          "curriculum.pacing.final_iteration=0.8",
          "iterations=1",
          "--no-progress",
        ],
        cwd,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/score file not found: .*CELoss\.csv/);
      expect(r.stderr).toContain("no run folder was left (the run was refused before training began)");
      expect(r.stderr).not.toMatch(/log: .*training\.log/);
      const training = join(cwd, "results", "default", "training");
      const runs = existsSync(training) ? readdirSync(training) : [];
      expect(runs.filter((n) => !n.startsWith("."))).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("a diverged run (non-finite loss) stops with a clear error and is left unfinished, not finished", async () => {
    const dir = join(root, "diverged");
    await expect(
      trainRunWith(fakeDeps(), blobConfig({ iterations: 3, learning_rate: 1e300 }), {
        runDir: dir,
        log: null,
        progress: false,
      }),
    ).rejects.toThrow(
      /training diverged: the training loss of batch \d+ of epoch 1 is (NaN|-?Infinity) \(learning_rate 1e\+300\)/,
    );
    expect(existsSync(join(dir, "metrics.csv"))).toBe(false);
    const log = readFileSync(join(dir, "training.log"), "utf8").trim().split("\n");
    expect(log.at(-1)).toMatch(/^Failed: .*training diverged/);
  });

  it("the CLI: learning_rate=1e30 exits 1 naming the divergence; rm-failed finds the run", () => {
    const cwd = mkdtempSync(join(tmpdir(), "curricula-diverged-"));
    try {
      const r = runCli(["train", "learning_rate=1e30", "iterations=2", "--no-progress"], cwd);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /training diverged: the training loss of batch \d+ of epoch 1 is (NaN|-?Infinity)/,
      );
      const training = join(cwd, "results", "default", "training");
      const runs = readdirSync(training).filter((n) => !n.startsWith("."));
      expect(runs).toHaveLength(1);
      expect(existsSync(join(training, runs[0] as string, "metrics.csv"))).toBe(false);
      const rm = runCli(["rm-failed", "results", "default", "--force"], cwd);
      expect(rm.code).toBe(0);
      expect(readdirSync(training).filter((n) => !n.startsWith("."))).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
