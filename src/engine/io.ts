/**
 * Model and optimiser files, written without tfjs-node: `model.json` (tfjs layers-model format plus a
 * `curricula` block with the NetworkSpec and the dropout stream) and `weights.bin`; `optimizer.json` +
 * `optimizer.bin` for the optimiser state. Every file is written atomically (temp file + rename);
 * the binary goes first so a model.json on disk always has its weights beside it.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { MODEL_FILES } from "../config/layout.js";
import { writeFileAtomic } from "../util/atomic.js";
import { DataError } from "../util/errors.js";
import type { RngState } from "../util/rng.js";
import type { OptimizerSnapshot } from "./optimizers.js";
import type { NetworkSpec, OptimizerSpec } from "./types.js";

export const MODEL_FILE = MODEL_FILES.modelJson;
export const WEIGHTS_FILE = MODEL_FILES.weights;
export const OPTIMIZER_FILE = MODEL_FILES.optimizerJson;
export const OPTIMIZER_WEIGHTS_FILE = MODEL_FILES.optimizerWeights;

/** What curricula adds to model.json. */
export interface CurriculaModelMeta {
  format: 1;
  spec: NetworkSpec;
  dropoutRng: RngState;
}

export async function writeModelFiles(
  model: tfl.LayersModel,
  dir: string,
  meta: CurriculaModelMeta,
): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  const saved = artifacts as tf.io.ModelArtifacts | null;
  if (!saved?.weightData || !saved.weightSpecs)
    throw new Error("tfjs returned no weights when saving the model");
  const data = Array.isArray(saved.weightData)
    ? tf.io.concatenateArrayBuffers(saved.weightData)
    : (saved.weightData as ArrayBuffer);
  const json = {
    format: "layers-model",
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_core}`,
    convertedBy: null,
    modelTopology: saved.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: saved.weightSpecs }],
    curricula: meta,
  };
  await writeFileAtomic(join(dir, WEIGHTS_FILE), new Uint8Array(data));
  await writeFileAtomic(join(dir, MODEL_FILE), `${JSON.stringify(json)}\n`);
}

export interface ModelFiles {
  artifacts: tf.io.ModelArtifacts;
  meta: CurriculaModelMeta;
}

export async function readModelFiles(dir: string): Promise<ModelFiles> {
  const jsonPath = join(dir, MODEL_FILE);
  const binPath = join(dir, WEIGHTS_FILE);
  if (!existsSync(jsonPath)) {
    throw new DataError(
      `${jsonPath}: no saved model here (expected ${MODEL_FILE} and ${WEIGHTS_FILE} written by curricula)`,
    );
  }
  let json: {
    modelTopology?: unknown;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    curricula?: CurriculaModelMeta;
  };
  try {
    json = JSON.parse(await readFile(jsonPath, "utf8"));
  } catch (error) {
    throw new DataError(`${jsonPath}: not valid JSON (${(error as Error).message})`);
  }
  if (!json.curricula?.spec)
    throw new DataError(`${jsonPath}: key 'curricula.spec' is missing; not a curricula model`);
  if (!json.modelTopology || !json.weightsManifest) {
    throw new DataError(`${jsonPath}: keys 'modelTopology' and 'weightsManifest' are required`);
  }
  if (!existsSync(binPath)) throw new DataError(`${binPath}: weights file missing next to ${MODEL_FILE}`);
  const bytes = await readFile(binPath);
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  return {
    artifacts: {
      modelTopology: json.modelTopology as tf.io.ModelArtifacts["modelTopology"],
      weightSpecs,
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    },
    meta: json.curricula,
  };
}

interface OptimizerJson {
  format: 1;
  optimizer: OptimizerSpec;
  learningRate: number;
  step: number;
  slots: {
    slot: string;
    variable: number;
    variableName: string;
    shape: number[];
    offset: number;
    length: number;
  }[];
}

export async function writeOptimizerFiles(
  dir: string,
  spec: OptimizerSpec,
  snapshot: OptimizerSnapshot,
  variableNames: readonly string[],
): Promise<void> {
  const total = snapshot.slots.reduce((n, s) => n + s.values.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  const slots: OptimizerJson["slots"] = [];
  for (const s of snapshot.slots) {
    all.set(s.values, offset);
    slots.push({
      slot: s.slot,
      variable: s.variable,
      variableName: variableNames[s.variable] ?? "",
      shape: s.shape,
      offset,
      length: s.values.length,
    });
    offset += s.values.length;
  }
  const json: OptimizerJson = {
    format: 1,
    optimizer: spec,
    learningRate: snapshot.learningRate,
    step: snapshot.step,
    slots,
  };
  await writeFileAtomic(join(dir, OPTIMIZER_WEIGHTS_FILE), new Uint8Array(all.buffer));
  await writeFileAtomic(join(dir, OPTIMIZER_FILE), `${JSON.stringify(json, null, 1)}\n`);
}

/** The saved optimiser state, or null when the folder has none. */
export async function readOptimizerFiles(
  dir: string,
  variableNames: readonly string[],
): Promise<OptimizerSnapshot | null> {
  const jsonPath = join(dir, OPTIMIZER_FILE);
  const binPath = join(dir, OPTIMIZER_WEIGHTS_FILE);
  if (!existsSync(jsonPath)) return null;
  const json = JSON.parse(await readFile(jsonPath, "utf8")) as OptimizerJson;
  if (!existsSync(binPath)) throw new DataError(`${binPath}: missing next to ${OPTIMIZER_FILE}`);
  const bytes = await readFile(binPath);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const slots = json.slots.map((s) => {
    if (
      s.variableName &&
      variableNames[s.variable] !== undefined &&
      variableNames[s.variable] !== s.variableName
    ) {
      throw new DataError(
        `${jsonPath}: slot '${s.slot}' belongs to variable '${s.variableName}', the model has '${variableNames[s.variable]}' there`,
      );
    }
    if (s.offset + s.length > all.length)
      throw new DataError(`${binPath}: shorter than ${OPTIMIZER_FILE} says`);
    return {
      slot: s.slot,
      variable: s.variable,
      shape: s.shape,
      values: all.slice(s.offset, s.offset + s.length),
    };
  });
  return { type: json.optimizer.type, learningRate: json.learningRate, step: json.step, slots };
}
