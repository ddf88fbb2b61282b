import { createRunDataset } from "../assembly/review.js";
import { loadGroupConfig } from "../config/compose.js";
import { parseConfig } from "../config/parse.js";
import { type DatasetConfig, DatasetConfigSchema } from "../config/schema.js";
import type { Dataset } from "../data/types.js";

/** The packaged or local `dataset/<id>.yaml`, validated (no data is loaded). */
export function datasetConfigById(id: string, configPath?: string): DatasetConfig {
  const raw = loadGroupConfig("dataset", id, configPath);
  return parseConfig(DatasetConfigSchema, raw, { key: "dataset", file: `dataset/${id}.yaml` });
}

/**
 * Builds a dataset named by id (scoring functions without a training run: Random, Predefined,
 * TransferTeacher). Its split is the config's `split_seed`, which the training runs share; the
 * sampler still checks `source_index` and refuses a score of other data.
 */
export async function datasetById(
  id: string,
  configPath?: string,
): Promise<{ config: DatasetConfig; dataset: Dataset }> {
  const config = datasetConfigById(id, configPath);
  return { config, dataset: await createRunDataset(config) };
}
