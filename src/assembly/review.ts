import type { DatasetConfig, RunConfig } from "../config/schema.js";
import { withReviewFingerprints } from "../data/review-edits.js";
import type { Dataset } from "../data/types.js";
import { readReviewTags } from "../results/review-tags.js";

/**
 * Review tags in a run (`dataset.exclude`, `dataset.relabel`: src/data/review-edits.ts), wired here
 * because the tags file is read by src/results and the dataset is built by src/data, which do not
 * import each other.
 */

/**
 * The dataset a config names, review tags included: every code that rebuilds a run's data (the
 * trainer, scoring, the report, imports) builds it here, so none can miss a tags file.
 */
export async function createRunDataset(config: DatasetConfig): Promise<Dataset> {
  const data = await import("../data/index.js");
  return data.createDataset(config, readReviewTags);
}

/**
 * `config` with the fingerprints of its review tags in its dataset (`dataset.exclude_sha256`,
 * `dataset.relabel_sha256`): config.yaml records which tags a run trained with, so a finished run
 * trained with other tags is a config mismatch, never reused. Unchanged without tags.
 */
export function withReviewTagsFingerprints(config: RunConfig, cwd: string = process.cwd()): RunConfig {
  const dataset = withReviewFingerprints(config.dataset, cwd);
  return dataset === config.dataset ? config : { ...config, dataset };
}
