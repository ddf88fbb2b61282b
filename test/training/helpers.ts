import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { compareResults, listFiles as listTree } from "../../scripts/results-compare.mjs";
import { trainRunWith } from "../../src/assembly/train-run.js";
import { type RunConfig, RunConfigSchema } from "../../src/config/schema.js";
import type { TrainCallback } from "../../src/training/types.js";
import { fakeDeps } from "./fakes.js";

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `curricula-${prefix}-`));
}

/** Every file under `dir` (relative paths, sorted). */
export function listFiles(dir: string): string[] {
  return listTree(dir).sort();
}

/**
 * Relative paths whose bytes differ between two run folders (or exist in only one), up to what
 * records time (the comparison of scripts/compare-results.mjs and the kill tests).
 */
export function differingFiles(a: string, b: string): string[] {
  return compareResults(a, b).differences.map((line) => line.replace(/^(differs|only in .*?): /, ""));
}

/** A resolved run config for the fake engine (Blobs data, linear model). */
export function blobConfig(overrides: Record<string, unknown> = {}): RunConfig {
  return RunConfigSchema.parse({
    experiment_id: "test",
    seed: 1,
    batch_size: 16,
    learning_rate: 0.05,
    iterations: 5,
    progress_bar: false,
    dataset: { id: "Blobs", type: "Blobs" },
    model: { id: "Linear", type: "Linear" },
    optimizer: { id: "SGD", type: "SGD", momentum: 0.9 },
    ...overrides,
  });
}

/** The acceptance Digits run: FFNN (64 hidden, dropout 0.5), Adam lr 1e-3, batch 32, 10 epochs. */
export function digitsFfnnConfig(overrides: Record<string, unknown> = {}): RunConfig {
  return blobConfig({
    seed: 1,
    batch_size: 32,
    learning_rate: 0.001,
    iterations: 10,
    dataset: { id: "Digits", type: "Digits", shape: "flat", dev_split: 0.2, test_split: 0.2 },
    model: { id: "FFNN", type: "FFNN", hidden_sizes: [64], dropout: 0.5 },
    optimizer: { id: "Adam", type: "Adam" },
    ...overrides,
  });
}

/** A callback that throws "simulated crash" at batch `batch` of iteration `iteration`. */
export function crashOnStep(iteration: number, batch: number): TrainCallback {
  return {
    name: "crash",
    onStep: (_ctx, it, b) => {
      if (it === iteration && b === batch) throw new Error("simulated crash");
    },
  };
}

/** A callback that throws "simulated crash at N" once the run reaches iteration N (end of it, or its steps). */
export function crashAt(
  iteration: number,
  hook: "onIterationEnd" | "onStep" = "onIterationEnd",
): TrainCallback {
  return {
    name: "crash",
    [hook]: (_ctx: unknown, i: number) => {
      if (i === iteration) throw new Error(`simulated crash at ${i}`);
    },
  };
}

/**
 * Trains `config` on the fake engine straight through into one fresh folder and, into another,
 * until `crash` throws its simulated crash and then once more (the resume); returns both folders.
 */
export async function straightAndResumed(
  config: RunConfig,
  crash: TrainCallback,
  freshDir: () => string,
): Promise<{ straight: string; crashed: string }> {
  const quiet = { log: null, progress: false } as const;
  const straight = freshDir();
  await trainRunWith(fakeDeps(), config, { runDir: straight, ...quiet });
  const crashed = freshDir();
  await expect(
    trainRunWith(fakeDeps(), config, { runDir: crashed, ...quiet, callbacks: [crash] }),
  ).rejects.toThrow(/simulated crash/);
  await trainRunWith(fakeDeps(), config, { runDir: crashed, ...quiet });
  return { straight, crashed };
}
