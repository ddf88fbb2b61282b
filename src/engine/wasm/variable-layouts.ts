/**
 * The wasm engine's variables in PyTorch terms: `<layer>/kernel` of a dense layer is [in, out]
 * where PyTorch's `<layer>.weight` is [out, in]; a conv kernel is [kh, kw, in, out] against
 * [out, in, kh, kw]; batch norm's gamma, beta, moving_mean, moving_variance are weight, bias,
 * running_mean, running_var. Pure functions (no tensor library), shared by the wasm engine and
 * the reader of older checkpoints.
 */
import { hwioToOihw, ioToOi, type ModelDescription, oihwToHwio, oiToIo } from "../../models/index.js";

export interface WasmVariable {
  /** PyTorch name, e.g. `linear0.weight`. */
  torchName: string;
  /** PyTorch shape. */
  torchShape: number[];
  /** TensorFlow.js shape. */
  wasmShape: number[];
  toTorch(values: Float32Array): Float32Array;
  toWasm(values: Float32Array): Float32Array;
}

const same = (v: Float32Array) => v;

/** The PyTorch counterpart of TensorFlow.js variable `<layer>/<weight>`, or null when there is none. */
export function wasmVariable(description: ModelDescription, wasmName: string): WasmVariable | null {
  const slash = wasmName.lastIndexOf("/");
  const layerName = wasmName.slice(0, slash);
  const weight = wasmName.slice(slash + 1);
  const layer = description.layers.find((l) => l.name === layerName);
  if (!layer) return null;
  const vector = (torchName: string, n: number): WasmVariable => ({
    torchName: `${layerName}.${torchName}`,
    torchShape: [n],
    wasmShape: [n],
    toTorch: same,
    toWasm: same,
  });
  if (layer.kind === "linear") {
    const { inFeatures: i, outFeatures: o } = layer;
    if (weight === "bias") return vector("bias", o);
    if (weight === "kernel") {
      return {
        torchName: `${layerName}.weight`,
        torchShape: [o, i],
        wasmShape: [i, o],
        toTorch: (v) => ioToOi(v, i, o),
        toWasm: (v) => oiToIo(v, i, o),
      };
    }
  }
  if (layer.kind === "conv2d") {
    const { kernelSize: k, inChannels: i, outChannels: o } = layer;
    if (weight === "bias") return vector("bias", o);
    if (weight === "kernel") {
      return {
        torchName: `${layerName}.weight`,
        torchShape: [o, i, k, k],
        wasmShape: [k, k, i, o],
        toTorch: (v) => hwioToOihw(v, k, k, i, o),
        toWasm: (v) => oihwToHwio(v, k, k, i, o),
      };
    }
  }
  if (layer.kind === "batchnorm2d") {
    const names: Record<string, string> = {
      gamma: "weight",
      beta: "bias",
      moving_mean: "running_mean",
      moving_variance: "running_var",
    };
    const torchName = names[weight];
    if (torchName) return vector(torchName, layer.numFeatures);
  }
  return null;
}

/** The trainable TensorFlow.js variables of a description in the wasm engine's order (its optimiser's). */
export function wasmTrainableNames(description: ModelDescription): string[] {
  return description.layers.flatMap((l) => {
    if (l.kind === "linear" || l.kind === "conv2d") return [`${l.name}/kernel`, `${l.name}/bias`];
    if (l.kind === "batchnorm2d") return [`${l.name}/gamma`, `${l.name}/beta`];
    return [];
  });
}

/** TensorFlow.js optimiser slot names and torch.optim's. */
export const SLOT_TO_TORCH: Readonly<Record<string, string>> = {
  m: "exp_avg",
  v: "exp_avg_sq",
  momentum: "momentum_buffer",
};
