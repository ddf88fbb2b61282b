import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trainRun } from "../../src/assembly/train-run.js";
import { runDir } from "../../src/config/layout.js";
import { runName } from "../../src/config/naming.js";
import { parseRunConfig } from "../../src/config/parse.js";
import type { RunConfig } from "../../src/config/schema.js";
import { readScoreRows, type ScoreRows } from "../../src/results/score-table.js";
import { CurriculumScoreManager, type ScoreManagerConfig } from "../../src/scoring/manager.js";
import { score } from "../../src/scoring/score.js";
import { readYaml } from "../../src/util/yaml-io.js";

/** A tiny Digits run config (FFNN with 16 hidden units, few epochs) so scoring tests stay fast. */
export function digitsConfig(
  resultsDir: string,
  seed: number | string,
  overrides: Record<string, unknown> = {},
): RunConfig {
  return parseRunConfig({
    results_dir: resultsDir,
    experiment_id: "default",
    seed,
    batch_size: 32,
    learning_rate: 0.01,
    iterations: 3,
    progress_bar: false,
    dataset: { id: "Digits", type: "Digits", shape: "flat", dev_split: 0.2, test_split: 0.2 },
    model: { id: "FFNN", type: "FFNN", hidden_sizes: [16], dropout: 0.1 },
    optimizer: { id: "Adam", type: "Adam" },
    ...overrides,
  });
}

/**
 * Trains the given seeds once into a fresh results folder; returns it and the run names. Every
 * run has the same split (the dataset's split_seed), so their scores form an ensemble.
 */
export async function trainDigitsRuns(
  seeds: (number | string)[],
): Promise<{ resultsDir: string; runs: string[] }> {
  const resultsDir = mkdtempSync(join(tmpdir(), "curricula-scoring-"));
  const runs: string[] = [];
  for (const seed of seeds) {
    const config = digitsConfig(resultsDir, seed);
    const name = runName(config as unknown as Record<string, unknown>);
    await trainRun(config, { runDir: runDir(resultsDir, "default", name), log: null });
    runs.push(name);
  }
  return { resultsDir, runs };
}

/** CELoss of one trained run in `resultsDir` (quiet, no plots or correlation); `extra` overrides. */
export function scoreCELoss(
  resultsDir: string,
  run: string,
  options: { extra?: string[]; force?: boolean } = {},
) {
  return score({
    log: () => {},
    force: options.force ?? false,
    overrides: [
      `results_dir=${resultsDir}`,
      "progress_bar=false",
      "plots=false",
      "correlation=null",
      "curriculum/scoring=CELoss",
      `curriculum.scoring.run_name=${run}`,
      ...(options.extra ?? []),
    ],
  });
}

/** A score manager config for `scoring` in `resultsDir`'s default experiment: batch 64, quiet (no progress bar, plots or correlation); `extra` overrides. */
export function scoreManagerConfig(
  resultsDir: string,
  scoring: Record<string, unknown>,
  extra: Partial<ScoreManagerConfig> = {},
): ScoreManagerConfig {
  return {
    results_dir: resultsDir,
    experiment_id: "default",
    batch_size: 64,
    progress_bar: false,
    plots: false,
    correlation: null,
    curriculum: { scoring },
    ...extra,
  };
}

/**
 * Computes a score step by step, as an executor does (preprocess, each atomic run, postprocess);
 * returns the manager, its atomic runs, the result, the score rows, the card and the output folder.
 */
export async function executeScore(config: ScoreManagerConfig) {
  const manager = await CurriculumScoreManager.create(config, { log: () => {} });
  const atomic = await manager.preprocess();
  for (const run of atomic) await manager.run(run);
  const result = await manager.postprocess();
  return {
    manager,
    atomic,
    result,
    rows: readScoreRows(result.scoreFile),
    card: readYaml<Record<string, unknown>>(result.card),
    dir: manager.outputDirectory,
  };
}

/** A column of score rows as numbers; throws naming the columns there are when it is missing. */
export function scoreColumn(rows: ScoreRows, name: string): number[] {
  const values = rows.columns.get(name);
  if (!values) throw new Error(`no column ${name}; have ${[...rows.columns.keys()].join(", ")}`);
  return Array.from(values);
}
