/**
 * Architectures by `type`, as engine-neutral descriptions (./description.ts). Every model has
 * stable lowercase layer names in forward order (PredictionDepth probes match them with regexes)
 * and its last layer outputs the logits. Engines build networks from these descriptions.
 */
import { ConfigError } from "../util/errors.js";
import { AUDIOCNN_PARAMS, describeAudioCNN } from "./audiocnn.js";
import { CNN_PARAMS, describeCNN } from "./cnn.js";
import type { ModelDescription, NetworkSpec } from "./description.js";
import { describeFFNN, FFNN_PARAMS } from "./ffnn.js";
import { describeResCNN, RESCNN_PARAMS } from "./rescnn.js";

export type * from "./description.js";
export { INPUT } from "./description.js";
export { dropoutMask, hwioToOihw, initialParameters, ioToOi, oihwToHwio, oiToIo } from "./init.js";
export {
  frozenParameters,
  type ModelTensors,
  modelTensors,
  type ParameterShape,
  parameterShapes,
} from "./parameters.js";

const DESCRIBERS: Record<string, (spec: NetworkSpec) => ModelDescription> = {
  FFNN: describeFFNN,
  CNN: describeCNN,
  ResCNN: describeResCNN,
  AudioCNN: describeAudioCNN,
};

export const MODEL_TYPES: readonly string[] = Object.freeze(Object.keys(DESCRIBERS));

/**
 * A TorchScript module the user saved (`path`: its file): no engine-neutral description; the torch
 * engine loads and trains the module itself (src/engine/torch/script-network.ts).
 */
export const TORCHSCRIPT = "TorchScript";

const PARAMS: Record<string, readonly string[]> = {
  [TORCHSCRIPT]: ["path"],
  FFNN: FFNN_PARAMS,
  CNN: CNN_PARAMS,
  ResCNN: RESCNN_PARAMS,
  AudioCNN: AUDIOCNN_PARAMS,
};

/** The parameters a model type accepts (its config keys besides id and type); undefined for unknown types. */
export function modelParamKeys(type: string): readonly string[] | undefined {
  return PARAMS[type];
}

/** The description of architecture `spec.type`; errors name the model key at fault. */
export function describeModel(spec: NetworkSpec): ModelDescription {
  if (spec.type === TORCHSCRIPT) {
    throw new ConfigError(
      "model.type",
      "a TorchScript model has no layer description; it runs on the torch engine only (engine=torch)",
    );
  }
  const describe = DESCRIBERS[spec.type];
  if (!describe) {
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
  return describe(spec);
}
