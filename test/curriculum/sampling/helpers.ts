/**
 * What the dynamic samplers' training tests share: a results root removed after the file's tests,
 * Digits FFNN runs under `curriculum=Dynamic`, the sampler state saved at an epoch and the pass sizes
 * the training log reports.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll } from "vitest";
import { composeGrid } from "../../../src/config/compose.js";
import type { RunConfig } from "../../../src/config/schema.js";
import { initEngine } from "../../../src/engine/index.js";
import { digitsFfnnConfig, tempDir } from "../../training/helpers.js";

/** Training options that print nothing. */
export const quiet = { log: null, progress: false } as const;

/**
 * A temporary results root, removed (and the engine set back to wasm) after the calling file's
 * tests, and a fresh run folder in it at each call of `freshDir`.
 */
export function samplingRoot(name: string): { root: string; freshDir: () => string } {
  const root = tempDir(name);
  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    await initEngine({ engine: "wasm" });
  });
  let counter = 0;
  return { root, freshDir: () => join(root, `run${counter++}`) };
}

/** `curriculum=Dynamic` with the dynamic sampler `sampling`, no pacing, `scoring` None unless given. */
export function dynamicCurriculum(
  sampling: Record<string, unknown>,
  scoring: Record<string, unknown> = { id: "None", type: "None" },
) {
  return {
    id: "Dynamic",
    type: "Dynamic",
    short: "D",
    scoring,
    pacing: { id: "None", type: "None", initial_size: 1, final_iteration: 0 },
    sampling,
  };
}

/**
 * A Digits FFNN run on wasm that trains `iterations` epochs under `curriculum=Dynamic` with the
 * dynamic sampler `sampling` (no pacing; `scoring` None unless given), results under `root`.
 */
export function dynamicRun(
  root: string,
  experimentId: string,
  iterations: number,
  sampling: Record<string, unknown>,
  options: { scoring?: Record<string, unknown>; overrides?: Record<string, unknown> } = {},
): RunConfig {
  return digitsFfnnConfig({
    engine: "wasm",
    results_dir: root,
    experiment_id: experimentId,
    iterations,
    curriculum: dynamicCurriculum(sampling, options.scoring),
    ...options.overrides,
  });
}

/** The trainer state a run saved at epoch `e` (its sampler's state under `sampler`). */
export function trainerStateAt<T>(dir: string, e: number): T {
  return JSON.parse(readFileSync(join(dir, `epoch_${e}`, "trainer_state.json"), "utf8")) as T;
}

/** The size of each pass, from the training log's "dynamic sampling: pass from epoch" lines. */
export function passSizes(lines: readonly string[]): number[] {
  return lines
    .filter((l) => l.startsWith("dynamic sampling: pass from epoch"))
    .map((l) => Number(/has (\d+) of/.exec(l)?.[1]));
}

/** The run config the packaged `curriculum=Dynamic curriculum/sampling=<sampler>` composes to (plus `extra` overrides). */
export async function composedSampler(
  root: string,
  sampler: string,
  extra: string[] = [],
): Promise<RunConfig> {
  const [point] = await composeGrid({
    cwd: root,
    log: null,
    overrides: [
      "progress_bar=false",
      `results_dir=${root}`,
      "curriculum=Dynamic",
      `curriculum/sampling=${sampler}`,
      ...extra,
    ],
  });
  if (!point) throw new Error(`curriculum/sampling=${sampler} composed no run`);
  return point.config;
}
