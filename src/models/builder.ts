/**
 * A small builder that appends layers to a ModelDescription and tracks each layer's per-sample
 * output shape, so the architectures read as the forward pass they describe.
 */
import { ConfigError } from "../util/errors.js";
import { INPUT, type LayerDescription, type ModelDescription, type NetworkSpec } from "./description.js";

/** A handle on one layer's output (or the network input) while a description is being built. */
export interface Node {
  name: string;
  shape: number[];
}

/** Batch normalisation with PyTorch's defaults. */
const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1;

export class DescriptionBuilder {
  private readonly layers: LayerDescription[] = [];
  readonly input: Node;

  constructor(private readonly spec: NetworkSpec) {
    this.input = { name: INPUT, shape: [...spec.inputShape] };
  }

  private push(layer: LayerDescription): Node {
    if (this.layers.some((l) => l.name === layer.name))
      throw new Error(`duplicate layer name '${layer.name}'`);
    this.layers.push(layer);
    return { name: layer.name, shape: layer.outputShape };
  }

  reshape(x: Node, shape: number[], name = "reshape"): Node {
    return this.push({ kind: "reshape", name, inputs: [x.name], outputShape: shape });
  }

  flatten(x: Node, name = "flatten"): Node {
    const size = x.shape.reduce((a, b) => a * b, 1);
    return this.push({ kind: "flatten", name, inputs: [x.name], outputShape: [size] });
  }

  linear(x: Node, outFeatures: number, name: string): Node {
    const inFeatures = x.shape.at(-1) as number;
    if (x.shape.length !== 1)
      throw new Error(`linear '${name}' needs a flat input, got [${x.shape.join(", ")}]`);
    return this.push({
      kind: "linear",
      name,
      inputs: [x.name],
      outputShape: [outFeatures],
      inFeatures,
      outFeatures,
    });
  }

  /** A 'same'-padded, stride-1 convolution with bias. */
  conv(x: Node, outChannels: number, kernelSize: number, name: string): Node {
    const [h, w, c] = x.shape as [number, number, number];
    return this.push({
      kind: "conv2d",
      name,
      inputs: [x.name],
      outputShape: [h, w, outChannels],
      inChannels: c,
      outChannels,
      kernelSize,
      stride: 1,
      padding: "same",
    });
  }

  batchNorm(x: Node, name: string): Node {
    const c = x.shape.at(-1) as number;
    return this.push({
      kind: "batchnorm2d",
      name,
      inputs: [x.name],
      outputShape: [...x.shape],
      numFeatures: c,
      eps: BN_EPS,
      momentum: BN_MOMENTUM,
    });
  }

  relu(x: Node, name: string): Node {
    return this.push({ kind: "relu", name, inputs: [x.name], outputShape: [...x.shape] });
  }

  /** 2x2 max-pooling, shrunk to 1 along an axis that is already 1 wide (tiny inputs still build). */
  maxPool(x: Node, name: string): Node {
    const [h, w, c] = x.shape as [number, number, number];
    const kh = Math.min(2, h);
    const kw = Math.min(2, w);
    const outH = Math.floor((h - kh) / kh) + 1;
    const outW = Math.floor((w - kw) / kw) + 1;
    return this.push({
      kind: "maxpool2d",
      name,
      inputs: [x.name],
      outputShape: [outH, outW, c],
      kernelSize: [kh, kw],
      stride: [kh, kw],
    });
  }

  dropout(x: Node, p: number, name: string): Node {
    return this.push({ kind: "dropout", name, inputs: [x.name], outputShape: [...x.shape], p });
  }

  add(a: Node, b: Node, name: string): Node {
    if (a.shape.join() !== b.shape.join()) {
      throw new Error(`add '${name}': shapes [${a.shape.join(", ")}] and [${b.shape.join(", ")}] differ`);
    }
    return this.push({ kind: "add", name, inputs: [a.name, b.name], outputShape: [...a.shape] });
  }

  globalAvgPool(x: Node, name = "gap"): Node {
    return this.push({ kind: "gap", name, inputs: [x.name], outputShape: [x.shape.at(-1) as number] });
  }

  /** The description; `logits` must be the last layer and give spec.outputDim values. */
  finish(logits: Node): ModelDescription {
    const last = this.layers.at(-1);
    if (!last || last.name !== logits.name) throw new Error("the logits layer must be the last layer");
    if (logits.shape.length !== 1 || logits.shape[0] !== this.spec.outputDim) {
      throw new ConfigError(
        "model",
        `model ${this.spec.type} outputs [${logits.shape.join(", ")}] per sample, expected [${this.spec.outputDim}]`,
      );
    }
    return { spec: this.spec, layers: this.layers };
  }
}
