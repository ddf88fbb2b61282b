import { type DatasetConfig, parseSeed, type RunConfig, RunConfigSchema } from "../config/schema.js";
import type { Dataset } from "../data/types.js";
import type { EngineInfo, Network, NetworkSpec, OptimizerSpec } from "../engine/types.js";

/** The engine a run asks for (its config's `engine`, `device`, `threads`). */
export interface EngineRequest {
  engine: RunConfig["engine"];
  device: string;
  threads: number | null;
}

import { ConfigError } from "../util/errors.js";

/**
 * What the trainer needs from the engine and data modules. `trainRun` uses the real ones; tests
 * and alternative engines pass their own to `trainRunWith`. The real modules are imported lazily so
 * that run-folder readers (`isRunFinished`, `listIterations`, ...) never load TF.js.
 */
export interface TrainerDeps {
  initEngine(request?: EngineRequest): Promise<EngineInfo>;
  createDataset(config: DatasetConfig, seed: number): Promise<Dataset>;
  createNetwork(spec: NetworkSpec, optimizer: OptimizerSpec | null, seed: number): Network;
  loadNetwork(dir: string, optimizer?: OptimizerSpec | null): Promise<Network>;
}

/** The engine and data modules of this package. */
export async function defaultDeps(): Promise<TrainerDeps> {
  const engine = await import("../engine/index.js");
  const data = await import("../data/index.js");
  return {
    initEngine: (request) => engine.initEngine(request ?? {}),
    createDataset: (config, seed) => data.createDataset(config, seed),
    createNetwork: (spec, optimizer, seed) => engine.createNetwork(spec, optimizer, seed),
    loadNetwork: (dir, optimizer) => engine.loadNetwork(dir, optimizer),
  };
}

/** Validates a run config (defaults filled in); errors name the key. */
export function validateRunConfig(config: unknown, file?: string): RunConfig {
  const parsed = RunConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(issue?.path.join(".") || "<root>", issue?.message ?? "invalid run config", file);
  }
  return parsed.data;
}

/** The network spec of a run: input shape and classes from the dataset, parameters from the model config. */
export function networkSpecFor(config: RunConfig, dataset: Dataset): NetworkSpec {
  const { id: _id, type, ...params } = config.model;
  return { type, inputShape: [...dataset.featureShape], outputDim: dataset.outputDim, params };
}

/** Rebuilds a run's dataset (with its dataset seed) and network spec from its config, for scoring. */
export async function buildForRun(
  config: RunConfig,
  deps?: Pick<TrainerDeps, "createDataset">,
): Promise<{ dataset: Dataset; spec: NetworkSpec }> {
  const resolved = validateRunConfig(config);
  const createDataset = deps?.createDataset ?? (await import("../data/index.js")).createDataset;
  const dataset = await createDataset(resolved.dataset, parseSeed(resolved.seed).data);
  return { dataset, spec: networkSpecFor(resolved, dataset) };
}
