import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { diffConfigs } from "../config/diff.js";
import { MODEL_FILES } from "../config/layout.js";
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
  dir: string,
  configFile: string,
): void {
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
  const differences = diffConfigs(plain(saved), plain(expected), ["model.json", "config"]);
  if (differences.length > 0) {
    throw new DataError(
      `${join(dir, MODEL_FILES.modelJson)}: the saved model does not match the network ${configFile} describes:\n  ` +
        differences.join("\n  "),
    );
  }
}

/** {@link checkNetworkSpec} for a loaded network; disposes it when it does not match. */
export function checkLoadedNetwork(
  network: Network,
  expected: NetworkSpec,
  dir: string,
  configFile: string,
): Network {
  try {
    checkNetworkSpec(network.spec, expected, dir, configFile);
  } catch (error) {
    network.dispose();
    throw error;
  }
  return network;
}

/**
 * The same check without loading the model: reads the spec the TF.js engine writes into
 * `model.json` (`curricula.spec`). Used where only the outputs saved beside a model are read; a
 * folder without a model, or a model file of another engine's format, is left to the loaders.
 */
export function checkSavedModel(dir: string, expected: NetworkSpec, configFile: string): void {
  const path = join(dir, MODEL_FILES.modelJson);
  if (!existsSync(path)) return;
  let saved: unknown;
  try {
    saved = (JSON.parse(readFileSync(path, "utf8")) as { curricula?: { spec?: unknown } }).curricula?.spec;
  } catch (error) {
    throw new DataError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (saved && typeof saved === "object") checkNetworkSpec(saved as NetworkSpec, expected, dir, configFile);
}
