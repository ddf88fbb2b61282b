/**
 * Checkpoints: the one module that writes and reads model and optimiser files, for every engine
 * (their names are in src/config/layout.ts). It imports no tensor library, so run-folder readers can use it.
 *
 * - `model.safetensors`: the parameters and buffers with PyTorch's names and layouts (`linear0.weight`
 *   [out, in], `conv0.weight` [out, in, kh, kw], batch norm's `weight`, `bias`, `running_mean`,
 *   `running_var` and int64 `num_batches_tracked`), loadable with `load_state_dict` into the modules
 *   of python/curricula_models.py. Its `__metadata__` holds `format`, the NetworkSpec (`spec`, JSON),
 *   the dropout stream (`dropout_rng`, JSON), the `engine` that wrote it, the layers (`description`,
 *   JSON) and, from a training run, the dataset's class names in code order (`class_names`, JSON).
 * - Pretrained start weights (`model.weights`): any PyTorch state_dict saved with safetensors,
 *   checked by name and shape against the model (`readInitialWeights`).
 * - `optimizer.safetensors`: the optimiser slots as torch.optim names them (`<param>.exp_avg`,
 *   `<param>.exp_avg_sq`, `<param>.momentum_buffer`), metadata `optimizer` (the OptimizerSpec, JSON),
 *   `learning_rate`, `step`, `engine`.
 * - Older runs' `model.json` + `weights.bin` (TensorFlow.js layers format) and `optimizer.json` +
 *   `optimizer.bin` are still read, converted to the same PyTorch names and layouts.
 * Writes are atomic (temp file + rename); networks write the optimiser file first, so a model file
 * on disk always has its optimiser state (when saved) beside it.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { MODEL_FILES } from "../config/layout.js";
import {
  describeModel,
  type ModelDescription,
  type ModelTensors,
  modelTensors,
  type ParameterSet,
  type ParameterTensor,
  parameterShapes,
  TORCHSCRIPT,
} from "../models/index.js";

export { hasModelCheckpoint } from "../results/run-folder.js";

import { writeFileAtomic } from "../util/atomic.js";
import { DataError } from "../util/errors.js";
import type { RngState } from "../util/rng.js";
import { decodeSafeTensors, encodeSafeTensors, type SafeTensor } from "./safetensors.js";
import type { EngineName, NetworkSpec, OptimizerSpec } from "./types.js";
import { SLOT_TO_TORCH, wasmTrainableNames, wasmVariable } from "./wasm/variable-layouts.js";

/** The checkpoint's file names (spelled in the results-tree layout module). */
export const CHECKPOINT_FILES = MODEL_FILES;

/** Every file a checkpoint may consist of (for cleaning up model states). */
export const CHECKPOINT_FILE_NAMES: readonly string[] = Object.values(CHECKPOINT_FILES);

const FORMAT = "curricula-checkpoint-1";

export interface ModelCheckpoint {
  spec: NetworkSpec;
  /** Parameters and running statistics, PyTorch names and layouts. */
  params: ParameterSet;
  /** Batch-norm `num_batches_tracked` (the number of training steps; the same for every layer). */
  batchesTracked: number;
  dropoutRng: RngState;
  /** The engine that wrote it ("wasm" for the older TensorFlow.js files). */
  engine: EngineName;
  /** The dataset's class names in code order (logit k is class k), where the file records them. */
  classNames?: string[];
}

export interface OptimizerCheckpoint {
  optimizer: OptimizerSpec;
  learningRate: number;
  /** Updates applied so far (Adam's bias correction). */
  step: number;
  /** Slots by `<param>.<slot>` (slot: exp_avg, exp_avg_sq, momentum_buffer), PyTorch layout. */
  slots: Map<string, Float32Array>;
  engine: EngineName;
}

export async function writeModelCheckpoint(dir: string, checkpoint: ModelCheckpoint): Promise<void> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, p] of checkpoint.params) {
    tensors.set(name, { dtype: "F32", shape: p.shape, data: p.data });
    // Batch norm's buffers end with running_var; PyTorch's num_batches_tracked follows them.
    const layer = name.endsWith(".running_var") ? name.slice(0, -".running_var".length) : null;
    if (layer) {
      tensors.set(`${layer}.num_batches_tracked`, {
        dtype: "I64",
        shape: [],
        data: BigInt64Array.of(BigInt(checkpoint.batchesTracked)),
      });
    }
  }
  const bytes = encodeSafeTensors(tensors, {
    format: FORMAT,
    spec: JSON.stringify(checkpoint.spec),
    dropout_rng: JSON.stringify(checkpoint.dropoutRng),
    engine: checkpoint.engine,
    // The layers (names, kinds, shapes, inputs) a PyTorch module must have to load the tensors (a
    // TorchScript module is its own description: the file the spec names).
    ...(checkpoint.spec.type === TORCHSCRIPT
      ? {}
      : { description: JSON.stringify(describeModel(checkpoint.spec).layers) }),
    ...(checkpoint.classNames ? { class_names: JSON.stringify(checkpoint.classNames) } : {}),
  });
  await writeFileAtomic(join(dir, CHECKPOINT_FILES.model), bytes);
}

/** Reads `model.safetensors`, or an older run's `model.json` + `weights.bin`. */
export async function readModelCheckpoint(dir: string): Promise<ModelCheckpoint> {
  const path = join(dir, CHECKPOINT_FILES.model);
  if (!existsSync(path)) {
    if (existsSync(join(dir, CHECKPOINT_FILES.legacyModel))) return readLegacyModel(dir);
    throw new DataError(
      `${dir}: no saved model here (expected ${CHECKPOINT_FILES.model}, or ${CHECKPOINT_FILES.legacyModel} + ${CHECKPOINT_FILES.legacyWeights} of older runs)`,
    );
  }
  const { tensors, metadata } = decodeSafeTensors(await readFile(path), path);
  if (metadata.format !== FORMAT) {
    throw new DataError(
      `${path}: __metadata__.format is ${JSON.stringify(metadata.format)}, expected '${FORMAT}'`,
    );
  }
  const spec = parseJson<NetworkSpec>(path, "spec", metadata.spec);
  const dropoutRng = parseJson<RngState>(path, "dropout_rng", metadata.dropout_rng);
  const params: ParameterSet = new Map();
  let batchesTracked = 0;
  for (const [name, t] of tensors) {
    if (t.dtype === "I64") {
      if (name.endsWith(".num_batches_tracked")) batchesTracked = Number(t.data[0] ?? 0n);
      continue;
    }
    params.set(name, { shape: t.shape, data: t.data });
  }
  // A TorchScript module's parameters are checked against the module when it loads them.
  if (spec.type !== TORCHSCRIPT) checkParameters(path, describeModel(spec), params);
  return {
    spec,
    params,
    batchesTracked,
    dropoutRng,
    engine: engineName(path, metadata.engine),
    ...(metadata.class_names !== undefined
      ? { classNames: parseJson<string[]>(path, "class_names", metadata.class_names) }
      : {}),
  };
}

/** Pretrained weights for a new network: the tensors it takes, and the model's tensors it leaves at their start values. */
export interface InitialWeights {
  params: ParameterSet;
  /** Model tensors the file lacks or holds in another shape (only without `strict`). */
  skipped: string[];
  /** Tensors of the file that are no tensor of the model (only without `strict`). */
  unused: string[];
}

/**
 * Reads a PyTorch `state_dict` saved with safetensors (`safetensors.torch.save_file(model.state_dict(),
 * path)`, or a curricula model.safetensors) as the start weights of `description` (a packaged
 * model's, or the tensors a TorchScript module lists itself). Every float tensor is matched by name
 * and shape: with `strict` a missing tensor, one of another shape or one the model lacks is an error
 * naming the file, the tensor, the expected and the actual shape; without it those are skipped (a
 * replaced head keeps its start values: seeded, or the module's own). Batch norm's int64
 * `num_batches_tracked` is ignored.
 */
export async function readInitialWeights(
  path: string,
  description: ModelDescription | ModelTensors,
  strict: boolean,
): Promise<InitialWeights> {
  const { tensors } = decodeSafeTensors(await readFile(path), path);
  const { model, tensors: own } = modelTensors(description);
  const expected = new Map(own.map((p) => [p.name, p.shape]));
  const params: ParameterSet = new Map();
  const skipped: string[] = [];
  const unused: string[] = [];
  for (const [name, t] of tensors) {
    if (t.dtype === "I64" && name.endsWith(".num_batches_tracked")) continue;
    const shape = expected.get(name);
    if (!shape) {
      if (strict) {
        throw new DataError(
          `${path}: tensor '${name}' [${t.shape.join(", ")}] is no parameter of model ${model} (model.weights_strict: false ignores it); the model's: ${[...expected.keys()].join(", ")}`,
        );
      }
      unused.push(name);
      continue;
    }
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.dtype !== "F32" || t.data.length !== size) {
      throw new DataError(
        `${path}: tensor '${name}' is ${t.dtype} with ${t.data.length} values for shape [${t.shape.join(", ")}], expected F32`,
      );
    }
    if (t.shape.join(",") !== shape.join(",")) {
      if (strict) {
        throw new DataError(
          `${path}: tensor '${name}' has shape [${t.shape.join(", ")}], model ${model} expects [${shape.join(", ")}] (model.weights_strict: false skips it, e.g. a replaced head)`,
        );
      }
      skipped.push(name);
      continue;
    }
    params.set(name, { shape: t.shape.slice(), data: t.data as Float32Array });
  }
  for (const name of expected.keys()) {
    if (params.has(name) || skipped.includes(name)) continue;
    if (strict) {
      throw new DataError(
        `${path}: tensor '${name}' (shape [${expected.get(name)?.join(", ")}]) of model ${model} is missing (model.weights_strict: false keeps its start values)`,
      );
    }
    skipped.push(name);
  }
  if (params.size === 0) {
    throw new DataError(
      `${path}: no tensor matches a parameter of model ${model} by name and shape; the model's: ${[...expected.keys()].join(", ")}`,
    );
  }
  return { params, skipped, unused };
}

/**
 * The NetworkSpec a checkpoint in `dir` was saved with, read from the file's header only (the
 * safetensors metadata, or an older run's model.json), and the file it came from; null when `dir`
 * holds no model.
 */
export function readCheckpointSpec(dir: string): { spec: NetworkSpec; file: string } | null {
  const path = join(dir, CHECKPOINT_FILES.model);
  if (existsSync(path)) {
    const fd = openSync(path, "r");
    try {
      const head = Buffer.alloc(8);
      if (readSync(fd, head, 0, 8, 0) < 8) throw new DataError(`${path}: too short for a safetensors file`);
      const length = Number(head.readBigUInt64LE(0));
      const size = fstatSync(fd).size;
      if (8 + length > size)
        throw new DataError(`${path}: safetensors header runs past the end (truncated file)`);
      const header = Buffer.alloc(length);
      readSync(fd, header, 0, length, 8);
      let metadata: Record<string, string>;
      try {
        metadata = ((JSON.parse(header.toString("utf8")) as { __metadata__?: Record<string, string> })
          .__metadata__ ?? {}) as Record<string, string>;
      } catch (error) {
        throw new DataError(`${path}: safetensors header is not JSON (${(error as Error).message})`);
      }
      return { spec: parseJson<NetworkSpec>(path, "spec", metadata.spec), file: path };
    } finally {
      closeSync(fd);
    }
  }
  const legacy = join(dir, CHECKPOINT_FILES.legacyModel);
  if (!existsSync(legacy)) return null;
  let json: { curricula?: { spec?: NetworkSpec } };
  try {
    json = JSON.parse(readFileSync(legacy, "utf8"));
  } catch (error) {
    throw new DataError(`${legacy}: not valid JSON (${(error as Error).message})`);
  }
  if (!json.curricula?.spec)
    throw new DataError(`${legacy}: key 'curricula.spec' is missing; not a curricula model`);
  return { spec: json.curricula.spec, file: legacy };
}

/** The engine that wrote the checkpoint in `dir`, without reading the tensors. */
export async function checkpointEngine(dir: string): Promise<EngineName> {
  const path = join(dir, CHECKPOINT_FILES.model);
  if (!existsSync(path)) return "wasm";
  const { metadata } = decodeSafeTensors(await readFile(path), path);
  return engineName(path, metadata.engine);
}

export async function writeOptimizerCheckpoint(dir: string, checkpoint: OptimizerCheckpoint): Promise<void> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, data] of checkpoint.slots)
    tensors.set(name, { dtype: "F32", shape: [data.length], data });
  const bytes = encodeSafeTensors(tensors, {
    format: FORMAT,
    optimizer: JSON.stringify(checkpoint.optimizer),
    learning_rate: String(checkpoint.learningRate),
    step: String(checkpoint.step),
    engine: checkpoint.engine,
  });
  await writeFileAtomic(join(dir, CHECKPOINT_FILES.optimizer), bytes);
}

/**
 * The optimiser state saved in `dir` (either format), or null when there is none. `description`
 * maps an older run's TensorFlow.js variable order and layouts to PyTorch's.
 */
export async function readOptimizerCheckpoint(
  dir: string,
  description: ModelDescription,
): Promise<OptimizerCheckpoint | null> {
  const path = join(dir, CHECKPOINT_FILES.optimizer);
  if (!existsSync(path)) {
    if (existsSync(join(dir, CHECKPOINT_FILES.legacyOptimizer))) return readLegacyOptimizer(dir, description);
    return null;
  }
  const { tensors, metadata } = decodeSafeTensors(await readFile(path), path);
  const slots = new Map<string, Float32Array>();
  for (const [name, t] of tensors) {
    if (t.dtype !== "F32") throw new DataError(`${path}: '${name}' is ${t.dtype}, expected F32`);
    slots.set(name, t.data);
  }
  const step = Number(metadata.step);
  const learningRate = Number(metadata.learning_rate);
  if (!Number.isInteger(step) || !(learningRate >= 0)) {
    throw new DataError(`${path}: __metadata__ needs an integer 'step' and a 'learning_rate' >= 0`);
  }
  return {
    optimizer: parseJson<OptimizerSpec>(path, "optimizer", metadata.optimizer),
    learningRate,
    step,
    slots,
    engine: engineName(path, metadata.engine),
  };
}

function parseJson<T>(path: string, key: string, value: string | undefined): T {
  if (value === undefined) throw new DataError(`${path}: __metadata__.${key} is missing`);
  try {
    return JSON.parse(value) as T;
  } catch (error) {
    throw new DataError(`${path}: __metadata__.${key} is not JSON (${(error as Error).message})`);
  }
}

function engineName(path: string, value: string | undefined): EngineName {
  if (value === "wasm" || value === "torch") return value;
  throw new DataError(`${path}: __metadata__.engine is ${JSON.stringify(value)}, expected wasm or torch`);
}

/** Every parameter the description needs, with its shape. */
function checkParameters(path: string, description: ModelDescription, params: ParameterSet): void {
  for (const [name, shape] of expectedShapes(description)) {
    const p = params.get(name);
    if (!p) throw new DataError(`${path}: tensor '${name}' is missing`);
    if (p.shape.join(",") !== shape.join(",")) {
      throw new DataError(
        `${path}: '${name}' has shape [${p.shape.join(", ")}], the model needs [${shape.join(", ")}]`,
      );
    }
  }
}

function expectedShapes(description: ModelDescription): [string, number[]][] {
  return parameterShapes(description).map((p) => [p.name, p.shape]);
}

// ---- older runs: TensorFlow.js layers files ----

async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new DataError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** A raw little-endian float32 file (TensorFlow.js `weights.bin`); a length that is no whole number of floats is damage. */
async function readFloat32File(path: string): Promise<Float32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength % 4 !== 0) {
    throw new DataError(
      `${path}: damaged: ${bytes.byteLength} bytes is not a whole number of float32 values (a multiple of 4 expected)`,
    );
  }
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

async function readLegacyModel(dir: string): Promise<ModelCheckpoint> {
  const jsonPath = join(dir, CHECKPOINT_FILES.legacyModel);
  const binPath = join(dir, CHECKPOINT_FILES.legacyWeights);
  const json = (await readJsonFile(jsonPath)) as {
    weightsManifest?: { weights: { name: string; shape: number[]; dtype?: string }[] }[];
    curricula?: { spec?: NetworkSpec; dropoutRng?: RngState };
  };
  const spec = json.curricula?.spec;
  if (!spec) throw new DataError(`${jsonPath}: key 'curricula.spec' is missing; not a curricula model`);
  if (!json.weightsManifest) throw new DataError(`${jsonPath}: key 'weightsManifest' is required`);
  if (!existsSync(binPath)) {
    throw new DataError(`${binPath}: weights file missing next to ${CHECKPOINT_FILES.legacyModel}`);
  }
  const all = await readFloat32File(binPath);
  const description = describeModel(spec);
  const params: ParameterSet = new Map();
  let offset = 0;
  for (const w of json.weightsManifest.flatMap((g) => g.weights)) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (offset + size > all.length) {
      throw new DataError(
        `${binPath}: truncated: weight '${w.name}' needs floats up to ${offset + size}, the file holds ${all.length} (as ${jsonPath} lists)`,
      );
    }
    const values = all.subarray(offset, offset + size);
    offset += size;
    const mapped = wasmVariable(description, w.name);
    if (!mapped)
      throw new DataError(`${jsonPath}: weight '${w.name}' matches no layer of model ${spec.type}`);
    params.set(mapped.torchName, { shape: mapped.torchShape, data: mapped.toTorch(values.slice()) });
  }
  checkParameters(jsonPath, description, params);
  // Keep the description's parameter order (the TensorFlow.js manifest may list them differently).
  const ordered: ParameterSet = new Map();
  for (const [name] of expectedShapes(description)) ordered.set(name, params.get(name) as ParameterTensor);
  const dropoutRng = json.curricula?.dropoutRng;
  if (!dropoutRng) throw new DataError(`${jsonPath}: key 'curricula.dropoutRng' is missing`);
  return { spec, params: ordered, batchesTracked: 0, dropoutRng, engine: "wasm" };
}

async function readLegacyOptimizer(dir: string, description: ModelDescription): Promise<OptimizerCheckpoint> {
  const jsonPath = join(dir, CHECKPOINT_FILES.legacyOptimizer);
  const binPath = join(dir, CHECKPOINT_FILES.legacyOptimizerWeights);
  const json = (await readJsonFile(jsonPath)) as {
    optimizer: OptimizerSpec;
    learningRate: number;
    step: number;
    slots: { slot: string; variable: number; variableName: string; offset: number; length: number }[];
  };
  if (!existsSync(binPath))
    throw new DataError(`${binPath}: missing next to ${CHECKPOINT_FILES.legacyOptimizer}`);
  const all = await readFloat32File(binPath);
  const variables = wasmTrainableNames(description);
  const slots = new Map<string, Float32Array>();
  for (const s of json.slots) {
    const wasmName = s.variableName || variables[s.variable];
    const mapped = wasmName ? wasmVariable(description, wasmName) : null;
    const slot = SLOT_TO_TORCH[s.slot];
    if (!mapped || !slot)
      throw new DataError(`${jsonPath}: slot '${s.slot}' of variable ${s.variable} matches no parameter`);
    if (s.offset + s.length > all.length) throw new DataError(`${binPath}: shorter than ${jsonPath} says`);
    slots.set(`${mapped.torchName}.${slot}`, mapped.toTorch(all.slice(s.offset, s.offset + s.length)));
  }
  return {
    optimizer: json.optimizer,
    learningRate: json.learningRate,
    step: json.step,
    slots,
    engine: "wasm",
  };
}
