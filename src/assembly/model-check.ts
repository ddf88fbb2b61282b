import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { diffConfigs } from "../config/diff.js";
import { MODEL_FILES, RUN_FILES } from "../config/layout.js";
import type { RunConfig } from "../config/schema.js";
import { readCheckpointSpec } from "../engine/checkpoint.js";
import type { Network, NetworkSpec } from "../engine/types.js";
import { TORCHSCRIPT } from "../models/index.js";
import { ConfigError, DataError } from "../util/errors.js";
import { fileSha256 } from "../util/fingerprint.js";

/**
 * A saved model must be the network its run's config describes: its spec (architecture,
 * parameters, input shape, classes) is compared with the spec rebuilt from `config.yaml`, so an
 * edited config or a model copied from another run is an error naming the file and the differing
 * keys, not a silently wrong score or resume.
 */
export function checkNetworkSpec(
  saved: NetworkSpec,
  expected: NetworkSpec,
  file: string,
  configFile: string,
): void {
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
  const differences = diffConfigs(plain(saved), plain(expected), ["saved model", "config"]);
  if (differences.length > 0) {
    throw new DataError(
      `${file}: the saved model does not match the network ${configFile} describes:\n  ${differences.join("\n  ")}`,
    );
  }
}

/** {@link checkNetworkSpec} for a network loaded from `dir`; disposes it when it does not match. */
export function checkLoadedNetwork(
  network: Network,
  expected: NetworkSpec,
  dir: string,
  configFile: string,
): Network {
  try {
    checkNetworkSpec(network.spec, expected, join(dir, MODEL_FILES.model), configFile);
  } catch (error) {
    network.dispose();
    throw error;
  }
  return network;
}

/**
 * The same check without loading the model (the checkpoint's header only): where only the outputs
 * saved beside a model are read. A folder without a model is left alone.
 */
export function checkSavedModel(dir: string, expected: NetworkSpec, configFile: string): void {
  const saved = readCheckpointSpec(dir);
  if (saved) checkNetworkSpec(saved.spec, expected, saved.file, configFile);
}

/**
 * A TorchScript model's parameters in its network spec: the module file as an absolute path
 * (relative to `cwd`) and its SHA-256, so a checkpoint of another file (or of the file since
 * changed) is refused on resume.
 */
export function scriptModelParams(
  params: Record<string, unknown>,
  cwd = process.cwd(),
): Record<string, unknown> {
  const { path } = params;
  if (typeof path !== "string" || path === "" || path === "???") {
    throw new ConfigError(
      "model.path",
      "expected the path of a TorchScript file (model=TorchScript model.path=my_model.pt)",
    );
  }
  const file = resolve(cwd, path);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new ConfigError(
      "model.path",
      `${file} does not exist or is no file; expected a TorchScript module saved with torch.jit.save`,
    );
  }
  return { ...params, path: file, sha256: fileSha256(file) };
}

/**
 * A finished run of a TorchScript model is reused only while its module file is the one it trained
 * from: the SHA-256 in its `_best/` model against the file's now. A changed (or moved) file is a
 * ConfigError naming both, as a changed config is.
 */
export function checkFinishedRunModule(runDir: string, config: RunConfig, cwd = process.cwd()): void {
  if (config.model.type !== TORCHSCRIPT) return;
  const saved = readCheckpointSpec(join(runDir, RUN_FILES.best));
  if (!saved) return;
  const now = scriptModelParams(config.model as Record<string, unknown>, cwd);
  if (saved.spec.params.sha256 !== now.sha256 || saved.spec.params.path !== now.path) {
    throw new ConfigError(
      "model.path",
      `${runDir}: the finished run trained on ${String(saved.spec.params.path)} (SHA-256 ${String(saved.spec.params.sha256)}); ${String(now.path)} is now ${String(now.sha256)}; delete the run folder to train on the new module`,
    );
  }
}
