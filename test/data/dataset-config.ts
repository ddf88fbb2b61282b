import type { DatasetConfig } from "../../src/config/schema.js";

/**
 * A dataset config of `type` with what the packaged classification configs set (CrossEntropy,
 * accuracy, split_seed 1); its id is the type unless `extra` (which overrides anything) names one.
 */
export function datasetConfig(type: string, extra: Record<string, unknown> = {}): DatasetConfig {
  return {
    id: type,
    type,
    criterion: "CrossEntropy",
    metrics: ["accuracy"],
    tracking_metric: "accuracy",
    split_seed: 1,
    ...extra,
  };
}
