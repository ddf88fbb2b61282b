/**
 * Architectures by `type`. Every model is a tfjs-layers functional model with stable lowercase
 * layer names in forward order (PredictionDepth probes match them with regexes) whose last layer
 * outputs the logits. Only the engine calls buildModel; everything else goes through Network.
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import type { NetworkSpec } from "../engine/types.js";
import { ConfigError } from "../util/errors.js";
import { buildAudioCNN } from "./audiocnn.js";
import { buildCNN } from "./cnn.js";
import { buildFFNN } from "./ffnn.js";
import { initTorchStyle } from "./layers.js";
import { buildResCNN } from "./rescnn.js";

export { attachDropoutRng, dropoutMask, initTorchStyle, SeededConv2D, SeededDropout } from "./layers.js";

const BUILDERS: Record<string, (spec: NetworkSpec) => tfl.LayersModel> = {
  FFNN: buildFFNN,
  CNN: buildCNN,
  ResCNN: buildResCNN,
  AudioCNN: buildAudioCNN,
};

export const MODEL_TYPES: readonly string[] = Object.freeze(Object.keys(BUILDERS));

/** Builds the architecture `spec.type` with PyTorch-style initial weights drawn from `seed`. */
export function buildModel(spec: NetworkSpec, seed: number): tfl.LayersModel {
  const build = BUILDERS[spec.type];
  if (!build) {
    throw new ConfigError(
      "model.type",
      `unknown model '${spec.type}'; expected one of: ${MODEL_TYPES.join(", ")}`,
    );
  }
  if (!Number.isInteger(spec.outputDim) || spec.outputDim < 1) {
    throw new ConfigError("model.output_dim", `expected a positive integer, got ${spec.outputDim}`);
  }
  if (spec.inputShape.length === 0 || !spec.inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ConfigError(
      "model.input_shape",
      `expected positive integer dimensions, got [${spec.inputShape.join(", ")}]`,
    );
  }
  const model = build(spec);
  initTorchStyle(model, seed);
  return model;
}

/** Names of a model's layers in forward order, without the input layer. */
export function modelLayerNames(model: tfl.LayersModel): string[] {
  return model.layers.filter((l) => l.getClassName() !== "InputLayer").map((l) => l.name);
}

/**
 * The embedding layer used by TransferTeacher-style scoring: the layer just before the last dense
 * (`linear{k}`) layer, i.e. the input the classifier head sees. For FFNN that is the last
 * `dropout{i}` (identity in eval mode), for CNN `dropout0`, for ResCNN `gap`, for AudioCNN `dropout0`.
 * Accepts a Network (anything with `layerNames`) or the names themselves.
 */
export function embeddingLayerName(source: { layerNames: readonly string[] } | readonly string[]): string {
  const names = isNameList(source) ? source : source.layerNames;
  let last = -1;
  names.forEach((name, i) => {
    if (/^linear\d+$/.test(name)) last = i;
  });
  if (last < 1) {
    throw new ConfigError("model", `no layer precedes the last linear layer in [${names.join(", ")}]`);
  }
  return names[last - 1] as string;
}

function isNameList(
  source: { layerNames: readonly string[] } | readonly string[],
): source is readonly string[] {
  return Array.isArray(source);
}
