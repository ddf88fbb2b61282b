import { join } from "node:path";
import { diffConfigs } from "../config/diff.js";
import { MODEL_FILES } from "../config/layout.js";
import { readCheckpointSpec } from "../engine/checkpoint.js";
import type { Network, NetworkSpec } from "../engine/types.js";
import { DataError } from "../util/errors.js";

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
