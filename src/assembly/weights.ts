import { existsSync } from "node:fs";
import type { RunConfig } from "../config/schema.js";
import { resolveDataPath } from "../data/paths.js";
import { readInitialWeights } from "../engine/checkpoint.js";
import { type NetworkInit, scriptModuleTensors } from "../engine/index.js";
import type { NetworkSpec } from "../engine/types.js";
import { describeModel, frozenParameters, TORCHSCRIPT } from "../models/index.js";
import { ConfigError } from "../util/errors.js";
import { fileSha256 } from "../util/fingerprint.js";

/**
 * Pretrained start weights and frozen parameters of a run (`model.weights`, `model.weights_strict`,
 * `model.freeze`). The weights file's sha256 becomes `model.weights_sha256` of the run's config
 * before its folder is checked, so config.yaml records which weights the run started from and a
 * finished run trained from other weights is a config mismatch, never reused.
 */

/**
 * `config` with `model.weights_sha256` set to the fingerprint of its `model.weights` file (a path
 * relative to the working folder, or `package:<path>`); unchanged without weights. A config that
 * already names a fingerprint (a run's config.yaml) must match the file.
 */
export function withWeightsFingerprint(config: RunConfig, cwd: string = process.cwd()): RunConfig {
  const { weights, weights_sha256: pinned } = config.model as { weights?: string; weights_sha256?: string };
  if (weights === undefined) return config;
  const path = resolveDataPath(weights, cwd);
  if (!existsSync(path)) {
    throw new ConfigError("model.weights", `no such file: ${path} (a safetensors state_dict was expected)`);
  }
  const sha256 = fileSha256(path);
  if (pinned !== undefined && pinned !== sha256) {
    throw new ConfigError(
      "model.weights_sha256",
      `${path} has sha256 ${sha256}, the config says ${pinned}: the weights file changed since the run was configured`,
    );
  }
  return { ...config, model: { ...config.model, weights_sha256: sha256 } };
}

/**
 * How a run's network starts: the `model.weights` tensors (names and shapes checked against the
 * model, or a TorchScript module's own named parameters and buffers; an error names the file, the
 * tensor and both shapes) and the parameters `model.freeze` names. `notes` says which tensors a
 * non-strict load skipped, for the run's log.
 */
export async function networkInit(
  config: RunConfig,
  spec: NetworkSpec,
  withWeights: boolean,
): Promise<{ init: NetworkInit; notes: string[] }> {
  const { weights, weights_strict, freeze } = config.model as {
    weights?: string;
    weights_strict?: boolean;
    freeze?: string[];
  };
  const init: NetworkInit = {};
  const notes: string[] = [];
  if (weights === undefined && (freeze === undefined || freeze.length === 0)) return { init, notes };
  // A TorchScript module lists its own parameters and buffers; a packaged model's description does.
  const description = spec.type === TORCHSCRIPT ? scriptModuleTensors(spec) : describeModel(spec);
  if (freeze && freeze.length > 0) init.frozen = frozenParameters(description, freeze);
  if (withWeights && weights !== undefined) {
    const path = resolveDataPath(weights);
    const loaded = await readInitialWeights(path, description, weights_strict ?? true);
    init.weights = loaded.params;
    notes.push(`Start weights from ${path}: ${loaded.params.size} tensors`);
    if (loaded.skipped.length > 0) notes.push(`  kept at their start values: ${loaded.skipped.join(", ")}`);
    if (loaded.unused.length > 0) notes.push(`  not in the model, ignored: ${loaded.unused.join(", ")}`);
  }
  if (init.frozen) notes.push(`Frozen: ${init.frozen.join(", ")}`);
  return { init, notes };
}
