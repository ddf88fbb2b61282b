import type { RunConfig } from "../config/schema.js";
import { createPacing } from "../curriculum/pacing/registry.js";
import { rescoringOf } from "../curriculum/rescore.js";
import { checkDatasetConfig } from "../data/index.js";
import { normaliseOptimizerSpec, optimizerSpecFor } from "../engine/optimizer-spec.js";
import { TORCHSCRIPT } from "../models/index.js";
import { countEvaluations, createSchedule } from "../training/schedulers.js";
import { ConfigError } from "../util/errors.js";

/**
 * What a run would refuse before it loads any data or starts the engine, checked without doing
 * either (`train --dry-run`): the dataset (type, keys, split settings, the path it names), the
 * optimiser's and scheduler's values and a curriculum's pacing and re-scoring. Keys were checked when the grid
 * was composed; model parameter values that depend on the data's shape are checked when the
 * network is built.
 */
export function checkRunConfig(config: RunConfig): void {
  checkDatasetConfig(config.dataset);
  if (config.model.type === TORCHSCRIPT && config.engine === "wasm") {
    throw new ConfigError("engine", "TorchScript models run on the torch engine only: use engine=torch");
  }
  normaliseOptimizerSpec(optimizerSpecFor(config));
  createSchedule(
    config.scheduler,
    config.learning_rate,
    countEvaluations(config.iterations, config.eval_frequency),
  );
  if (config.curriculum.id !== "None") {
    // The pace is checked on a nominal training set: sizes are relative to it.
    createPacing(config.curriculum.pacing, config.iterations, 1000);
    // A score that re-scoring cannot recompute from the run's outputs (curriculum.rescore_every).
    rescoringOf(config);
  }
}
