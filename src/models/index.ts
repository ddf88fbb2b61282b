/**
 * Architectures by `type`, as engine-neutral descriptions (./description.ts). Every model has
 * stable lowercase layer names in forward order (PredictionDepth probes match them with regexes)
 * and its last layer outputs the logits. Engines build networks from these descriptions.
 */
import { ConfigError } from "../util/errors.js";
import { describeAudioCNN } from "./audiocnn.js";
import { describeCNN } from "./cnn.js";
import type { ModelDescription, NetworkSpec } from "./description.js";
import { describeFFNN } from "./ffnn.js";
import { describeResCNN } from "./rescnn.js";

export type * from "./description.js";
export { INPUT } from "./description.js";
export { dropoutMask, hwioToOihw, initialParameters, ioToOi, oihwToHwio, oiToIo } from "./init.js";

const DESCRIBERS: Record<string, (spec: NetworkSpec) => ModelDescription> = {
  FFNN: describeFFNN,
  CNN: describeCNN,
  ResCNN: describeResCNN,
  AudioCNN: describeAudioCNN,
};

export const MODEL_TYPES: readonly string[] = Object.freeze(Object.keys(DESCRIBERS));

/** The description of architecture `spec.type`; errors name the model key at fault. */
export function describeModel(spec: NetworkSpec): ModelDescription {
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
