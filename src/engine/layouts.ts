/**
 * The tfjs engine's variables in PyTorch terms: `<layer>/kernel` of a dense layer is [in, out]
 * where PyTorch's `<layer>.weight` is [out, in]; a conv kernel is [kh, kw, in, out] against
 * [out, in, kh, kw]; batch norm's gamma, beta, moving_mean, moving_variance are weight, bias,
 * running_mean, running_var. Pure functions (no tensor library), shared by the tfjs engine and
 * the reader of older checkpoints.
 */
import { hwioToOihw, ioToOi, type ModelDescription, oihwToHwio, oiToIo } from "../models/index.js";

export interface TfjsVariable {
  /** PyTorch name, e.g. `linear0.weight`. */
  torchName: string;
  /** PyTorch shape. */
  torchShape: number[];
  /** tfjs shape. */
  tfShape: number[];
  toTorch(values: Float32Array): Float32Array;
  toTf(values: Float32Array): Float32Array;
}

const same = (v: Float32Array) => v;

/** The PyTorch counterpart of tfjs variable `<layer>/<weight>`, or null when there is none. */
export function tfjsVariable(description: ModelDescription, tfName: string): TfjsVariable | null {
  const slash = tfName.lastIndexOf("/");
  const layerName = tfName.slice(0, slash);
  const weight = tfName.slice(slash + 1);
  const layer = description.layers.find((l) => l.name === layerName);
  if (!layer) return null;
  const vector = (torchName: string, n: number): TfjsVariable => ({
    torchName: `${layerName}.${torchName}`,
    torchShape: [n],
    tfShape: [n],
    toTorch: same,
    toTf: same,
  });
  if (layer.kind === "linear") {
    const { inFeatures: i, outFeatures: o } = layer;
    if (weight === "bias") return vector("bias", o);
    if (weight === "kernel") {
      return {
        torchName: `${layerName}.weight`,
        torchShape: [o, i],
        tfShape: [i, o],
        toTorch: (v) => ioToOi(v, i, o),
        toTf: (v) => oiToIo(v, i, o),
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
        tfShape: [k, k, i, o],
        toTorch: (v) => hwioToOihw(v, k, k, i, o),
        toTf: (v) => oihwToHwio(v, k, k, i, o),
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

/** The trainable tfjs variables of a description in the tfjs engine's order (its optimiser's). */
export function tfjsTrainableNames(description: ModelDescription): string[] {
  return description.layers.flatMap((l) => {
    if (l.kind === "linear" || l.kind === "conv2d") return [`${l.name}/kernel`, `${l.name}/bias`];
    if (l.kind === "batchnorm2d") return [`${l.name}/gamma`, `${l.name}/beta`];
    return [];
  });
}

/** tfjs optimiser slot names and torch.optim's. */
export const SLOT_TO_TORCH: Readonly<Record<string, string>> = {
  m: "exp_avg",
  v: "exp_avg_sq",
  momentum: "momentum_buffer",
};
