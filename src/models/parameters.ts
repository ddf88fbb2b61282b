/**
 * The parameters and buffers of a model description by PyTorch name, with their shapes, and which
 * of them train: what a checkpoint or a pretrained weights file must hold, and what `model.freeze`
 * may name.
 */
import { ConfigError } from "../util/errors.js";
import type { ModelDescription } from "./description.js";

export interface ParameterShape {
  /** PyTorch's name, e.g. `conv0.weight`, `bn0.running_mean`. */
  name: string;
  shape: number[];
  /** False for batch norm's running statistics (buffers). */
  trainable: boolean;
}

/** Every float parameter and buffer of the model, in layer order (batch norm's int64 step count aside). */
export function parameterShapes(description: ModelDescription): ParameterShape[] {
  return description.layers.flatMap((l): ParameterShape[] => {
    switch (l.kind) {
      case "linear":
        return [
          { name: `${l.name}.weight`, shape: [l.outFeatures, l.inFeatures], trainable: true },
          { name: `${l.name}.bias`, shape: [l.outFeatures], trainable: true },
        ];
      case "conv2d":
        return [
          {
            name: `${l.name}.weight`,
            shape: [l.outChannels, l.inChannels, l.kernelSize, l.kernelSize],
            trainable: true,
          },
          { name: `${l.name}.bias`, shape: [l.outChannels], trainable: true },
        ];
      case "batchnorm2d":
        return [
          { name: `${l.name}.weight`, shape: [l.numFeatures], trainable: true },
          { name: `${l.name}.bias`, shape: [l.numFeatures], trainable: true },
          { name: `${l.name}.running_mean`, shape: [l.numFeatures], trainable: false },
          { name: `${l.name}.running_var`, shape: [l.numFeatures], trainable: false },
        ];
      default:
        return [];
    }
  });
}

/**
 * The trainable parameters `model.freeze` names: every parameter whose PyTorch name starts with one
 * of the prefixes (`conv` freezes conv0 and conv1, `linear0.` only linear0). A prefix that matches
 * no parameter is an error (a typo would silently train everything), and so is freezing them all.
 */
export function frozenParameters(description: ModelDescription, prefixes: readonly string[]): string[] {
  const trainable = parameterShapes(description)
    .filter((p) => p.trainable)
    .map((p) => p.name);
  for (const prefix of prefixes) {
    if (!trainable.some((name) => name.startsWith(prefix))) {
      throw new ConfigError(
        "model.freeze",
        `'${prefix}' is the start of no parameter name of model ${description.spec.type}; its parameters: ${trainable.join(", ")}`,
      );
    }
  }
  const frozen = trainable.filter((name) => prefixes.some((prefix) => name.startsWith(prefix)));
  if (prefixes.length > 0 && frozen.length === trainable.length) {
    throw new ConfigError(
      "model.freeze",
      `[${prefixes.join(", ")}] freezes every parameter of model ${description.spec.type}; nothing would train`,
    );
  }
  return frozen;
}
