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
 * A model's tensors by name where no description lists them (a TorchScript module, whose own
 * named parameters and buffers they are), and what messages call the model.
 */
export interface ModelTensors {
  model: string;
  tensors: readonly ParameterShape[];
}

/** The tensors of a packaged model's description, or those a module listed itself. */
export function modelTensors(model: ModelDescription | ModelTensors): ModelTensors {
  return "layers" in model ? { model: model.spec.type, tensors: parameterShapes(model) } : model;
}

/**
 * The trainable parameters `model.freeze` names: every parameter whose PyTorch name starts with one
 * of the prefixes (`conv` freezes conv0 and conv1, `linear0.` only linear0). A prefix that matches
 * no parameter is an error (a typo would silently train everything), and so is freezing them all.
 */
export function frozenParameters(
  model: ModelDescription | ModelTensors,
  prefixes: readonly string[],
): string[] {
  const { model: name, tensors } = modelTensors(model);
  const trainable = tensors.filter((p) => p.trainable).map((p) => p.name);
  for (const prefix of prefixes) {
    if (!trainable.some((parameter) => parameter.startsWith(prefix))) {
      throw new ConfigError(
        "model.freeze",
        `'${prefix}' is the start of no parameter name of model ${name}; its parameters: ${trainable.join(", ")}`,
      );
    }
  }
  const frozen = trainable.filter((parameter) => prefixes.some((prefix) => parameter.startsWith(prefix)));
  if (prefixes.length > 0 && frozen.length === trainable.length) {
    throw new ConfigError(
      "model.freeze",
      `[${prefixes.join(", ")}] freezes every parameter of model ${name}; nothing would train`,
    );
  }
  return frozen;
}
