/**
 * Initial parameters and dropout masks, drawn in TypeScript so every engine starts from the same
 * numbers for the same seed.
 */
import { Rng } from "../util/rng.js";
import type { LayerDescription, ModelDescription, ParameterSet, ParameterTensor } from "./description.js";

/**
 * PyTorch's default initialisation for Linear and Conv2d (kaiming_uniform with a = sqrt(5), which
 * reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias), so curricula and
 * PyTorch runs start from the same distribution. Each layer draws from its own stream derived from
 * the seed and the layer name, so adding a layer does not shift the others. The weight is drawn in
 * input-major order ([in, out] for linear, [kh, kw, in, out] for conv: the order of the first
 * releases, whose runs therefore keep their initial weights) and then stored in PyTorch's layout;
 * the bias follows from the same stream. Batch norm starts at γ = 1, β = 0, mean 0, variance 1.
 */
export function initialParameters(description: ModelDescription, seed: number): ParameterSet {
  const params: ParameterSet = new Map();
  for (const layer of description.layers) {
    for (const [name, tensor] of layerInitialParameters(layer, seed)) params.set(name, tensor);
  }
  return params;
}

function layerInitialParameters(layer: LayerDescription, seed: number): [string, ParameterTensor][] {
  switch (layer.kind) {
    case "linear": {
      const rng = Rng.derive(seed, `init:${layer.name}`);
      const bound = 1 / Math.sqrt(layer.inFeatures);
      const io = uniform(rng, layer.inFeatures * layer.outFeatures, bound);
      return [
        [
          `${layer.name}.weight`,
          {
            shape: [layer.outFeatures, layer.inFeatures],
            data: ioToOi(io, layer.inFeatures, layer.outFeatures),
          },
        ],
        [`${layer.name}.bias`, { shape: [layer.outFeatures], data: uniform(rng, layer.outFeatures, bound) }],
      ];
    }
    case "conv2d": {
      const rng = Rng.derive(seed, `init:${layer.name}`);
      const k = layer.kernelSize;
      const bound = 1 / Math.sqrt(k * k * layer.inChannels);
      const hwio = uniform(rng, k * k * layer.inChannels * layer.outChannels, bound);
      return [
        [
          `${layer.name}.weight`,
          {
            shape: [layer.outChannels, layer.inChannels, k, k],
            data: hwioToOihw(hwio, k, k, layer.inChannels, layer.outChannels),
          },
        ],
        [`${layer.name}.bias`, { shape: [layer.outChannels], data: uniform(rng, layer.outChannels, bound) }],
      ];
    }
    case "batchnorm2d": {
      const c = layer.numFeatures;
      return [
        [`${layer.name}.weight`, { shape: [c], data: new Float32Array(c).fill(1) }],
        [`${layer.name}.bias`, { shape: [c], data: new Float32Array(c) }],
        [`${layer.name}.running_mean`, { shape: [c], data: new Float32Array(c) }],
        [`${layer.name}.running_var`, { shape: [c], data: new Float32Array(c).fill(1) }],
      ];
    }
    default:
      return [];
  }
}

function uniform(rng: Rng, size: number, bound: number): Float32Array {
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = (rng.random() * 2 - 1) * bound;
  return values;
}

/** [in, out] → [out, in]. */
export function ioToOi(io: Float32Array, inF: number, outF: number): Float32Array {
  const oi = new Float32Array(io.length);
  for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) oi[o * inF + i] = io[i * outF + o] as number;
  return oi;
}

/** [out, in] → [in, out]. */
export function oiToIo(oi: Float32Array, inF: number, outF: number): Float32Array {
  return ioToOi(oi, outF, inF);
}

/** [kh, kw, in, out] → [out, in, kh, kw]. */
export function hwioToOihw(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + y) * kw + x] = w[((y * kw + x) * cin + i) * cout + o] as number;
  return out;
}

/** [out, in, kh, kw] → [kh, kw, in, out]. */
export function oihwToHwio(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((y * kw + x) * cin + i) * cout + o] = w[((o * cin + i) * kh + y) * kw + x] as number;
  return out;
}

/**
 * An inverted-dropout mask: 0 with probability `rate`, else 1/(1-rate); one uint32 of the network's
 * dropout stream per value, in row-major (channels-last) order. Every engine applies these masks,
 * so dropout is the same on every engine and resumes exactly from the stream's saved state.
 */
export function dropoutMask(size: number, rate: number, rng: Rng): Float32Array {
  const mask = new Float32Array(size);
  const keep = 1 / (1 - rate);
  const threshold = rate * 4294967296;
  for (let i = 0; i < size; i++) mask[i] = rng.nextUint32() >= threshold ? keep : 0;
  return mask;
}
