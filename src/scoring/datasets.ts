import type { Dataset } from "../data/types.js";
import { loadGroupConfig } from "../experiments/index.js";
import { type DatasetConfig, DatasetConfigSchema } from "../experiments/schema.js";
import { ConfigError } from "../util/errors.js";

/**
 * Builds a dataset named by id (scoring functions without a training run: Random, Predefined,
 * TransferTeacher). `dataset_seed` must be the dataset seed of the runs that will train with the
 * score, since it decides the split; the sampler checks `source_index` and refuses a mismatch.
 */
export async function datasetById(
  id: string,
  seed: number,
  configPath?: string,
): Promise<{ config: DatasetConfig; dataset: Dataset }> {
  const raw = loadGroupConfig("dataset", id, configPath);
  const parsed = DatasetConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `dataset.${issue?.path.join(".") ?? ""}`,
      issue?.message ?? "invalid",
      `dataset/${id}.yaml`,
    );
  }
  const data = await import("../data/index.js");
  return { config: parsed.data, dataset: await data.createDataset(parsed.data, seed) };
}
