/**
 * Builds a TensorFlow.js layers model from an engine-neutral ModelDescription (src/models) and moves
 * parameters between PyTorch's layout (the descriptions' and checkpoints') and TensorFlow.js'.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  INPUT,
  type LayerDescription,
  type ModelDescription,
  oihwToHwio,
  oiToIo,
  type ParameterSet,
} from "../../models/index.js";
import { SeededConv2D, SeededDropout } from "./seeded-layers.js";
import { wasmVariable } from "./variable-layouts.js";

/** A TensorFlow.js layer for one described layer (weights zero until {@link setParameters}). */
function tfLayer(layer: LayerDescription): tfl.layers.Layer {
  const name = layer.name;
  switch (layer.kind) {
    case "reshape":
      return tfl.layers.reshape({ targetShape: layer.outputShape, name });
    case "flatten":
      return tfl.layers.flatten({ name });
    case "linear":
      return tfl.layers.dense({
        units: layer.outFeatures,
        name,
        kernelInitializer: "zeros",
        biasInitializer: "zeros",
      });
    case "conv2d":
      return new SeededConv2D({
        filters: layer.outChannels,
        kernelSize: layer.kernelSize,
        strides: layer.stride,
        padding: layer.padding,
        name,
      });
    case "batchnorm2d":
      // Keras' momentum is the weight of the old running value: 1 - PyTorch's.
      return tfl.layers.batchNormalization({
        axis: -1,
        momentum: 1 - layer.momentum,
        epsilon: layer.eps,
        name,
      });
    case "relu":
      return tfl.layers.reLU({ name });
    case "maxpool2d":
      return tfl.layers.maxPooling2d({
        poolSize: layer.kernelSize,
        strides: layer.stride,
        padding: "valid",
        name,
      });
    case "dropout":
      return new SeededDropout({ rate: layer.p, name });
    case "add":
      return tfl.layers.add({ name });
    case "gap":
      return tfl.layers.globalAveragePooling2d({ name });
  }
}

/** The layers model of `description` with `params` (PyTorch layout) loaded. */
export function buildWasmModel(description: ModelDescription, params: ParameterSet): tfl.LayersModel {
  const { spec, layers } = description;
  const input = tfl.input({ shape: spec.inputShape, name: INPUT });
  const outputs = new Map<string, tfl.SymbolicTensor>([[INPUT, input]]);
  for (const layer of layers) {
    const inbound = layer.inputs.map((n) => {
      const t = outputs.get(n);
      if (!t) throw new Error(`layer '${layer.name}' reads '${n}', which comes later or does not exist`);
      return t;
    });
    const out = tfLayer(layer).apply(inbound.length === 1 ? (inbound[0] as tfl.SymbolicTensor) : inbound);
    outputs.set(layer.name, out as tfl.SymbolicTensor);
  }
  const logits = outputs.get((layers.at(-1) as LayerDescription).name) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: logits, name: spec.type.toLowerCase() });
  setParameters(model, description, params);
  return model;
}

/** Loads PyTorch-layout parameters into the model's TensorFlow.js variables. */
export function setParameters(
  model: tfl.LayersModel,
  description: ModelDescription,
  params: ParameterSet,
): void {
  for (const layer of description.layers) {
    const values = tfValues(layer, params);
    if (!values) continue;
    const target = model.getLayer(layer.name);
    const tensors = values.map(([data, shape]) => tf.tensor(data, shape));
    target.setWeights(tensors);
    for (const t of tensors) t.dispose();
  }
}

function get(params: ParameterSet, name: string): Float32Array {
  const p = params.get(name);
  if (!p) throw new Error(`missing parameter '${name}'`);
  return p.data;
}

/** The TensorFlow.js weights of one layer, in the order TensorFlow.js keeps them, or null for a layer without any. */
function tfValues(layer: LayerDescription, params: ParameterSet): [Float32Array, number[]][] | null {
  const n = layer.name;
  switch (layer.kind) {
    case "linear":
      return [
        [
          oiToIo(get(params, `${n}.weight`), layer.inFeatures, layer.outFeatures),
          [layer.inFeatures, layer.outFeatures],
        ],
        [get(params, `${n}.bias`), [layer.outFeatures]],
      ];
    case "conv2d": {
      const k = layer.kernelSize;
      return [
        [
          oihwToHwio(get(params, `${n}.weight`), k, k, layer.inChannels, layer.outChannels),
          [k, k, layer.inChannels, layer.outChannels],
        ],
        [get(params, `${n}.bias`), [layer.outChannels]],
      ];
    }
    case "batchnorm2d": {
      const c = [layer.numFeatures];
      return [
        [get(params, `${n}.weight`), c],
        [get(params, `${n}.bias`), c],
        [get(params, `${n}.running_mean`), c],
        [get(params, `${n}.running_var`), c],
      ];
    }
    default:
      return null;
  }
}

/** The model's weights in PyTorch's names and layouts (the inverse of {@link setParameters}). */
export function getParameters(model: tfl.LayersModel, description: ModelDescription): ParameterSet {
  const params: ParameterSet = new Map();
  for (const layer of description.layers) {
    if (layer.kind !== "linear" && layer.kind !== "conv2d" && layer.kind !== "batchnorm2d") continue;
    for (const w of model.getLayer(layer.name).weights) {
      const variable = wasmVariable(description, w.originalName);
      if (!variable) throw new Error(`TensorFlow.js weight '${w.originalName}' has no PyTorch counterpart`);
      const values = w.read().dataSync() as Float32Array;
      // A copy: the cpu backend's dataSync returns its own storage.
      params.set(variable.torchName, { shape: variable.torchShape, data: variable.toTorch(values.slice()) });
    }
  }
  return params;
}
