/**
 * Layer factories shared by the architectures. Weights start at zero here (no hidden randomness);
 * initTorchStyle then fills them from the network seed. Shapes are NHWC.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { SeededConv2D } from "./layers.js";

export type Sym = tfl.SymbolicTensor;

export function dense(units: number, name: string): tfl.layers.Layer {
  return tfl.layers.dense({ units, name, kernelInitializer: "zeros", biasInitializer: "zeros" });
}

/** A 'same'-padded, stride-1 convolution with bias (see SeededConv2D for why not tfjs' Conv2D). */
export function conv(filters: number, kernelSize: number, name: string): tfl.layers.Layer {
  return new SeededConv2D({ filters, kernelSize, padding: "same", name });
}

/** Batch normalisation with PyTorch's defaults (momentum 0.1 = keras 0.9, eps 1e-5). */
export function batchNorm(name: string): tfl.layers.Layer {
  return tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name });
}

export function relu(name: string): tfl.layers.Layer {
  return tfl.layers.reLU({ name });
}

/** 2x2 max-pooling, shrunk to 1 along an axis that is already 1 wide (tiny inputs still build). */
export function maxPool(height: number, width: number, name: string): tfl.layers.Layer {
  const pool: [number, number] = [Math.min(2, height), Math.min(2, width)];
  return tfl.layers.maxPooling2d({ poolSize: pool, strides: pool, padding: "valid", name });
}

export function apply(layer: tfl.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** The static [height, width] of a symbolic NHWC tensor. */
export function spatial(x: Sym): [number, number] {
  return [x.shape[1] as number, x.shape[2] as number];
}
