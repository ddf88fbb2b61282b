/**
 * Models as data: an engine-neutral description of an architecture. Each engine (src/engine) builds
 * a network from a ModelDescription; nothing here knows a tensor library.
 *
 * Conventions every engine follows:
 * - Activations are channels-last: an image-like tensor is [height, width, channels] per sample
 *   (NHWC with the batch), as the datasets deliver it. `flatten` flattens in that order.
 * - Parameters carry PyTorch's names and layouts (`<layer>.weight`, `<layer>.bias`, batch norm's
 *   `running_mean`/`running_var`): linear weights [out, in], conv weights [out, in, kh, kw].
 *   An engine with another layout (the wasm engine: [in, out] and [kh, kw, in, out]) converts on the way in
 *   and out, so checkpoints are the same whichever engine wrote them.
 * - Layer names are stable, lowercase and unique; PredictionDepth probes match them.
 */

/** What to build: a model type, its per-sample input shape, the number of classes and parameters. */
export interface NetworkSpec {
  /** Registry key of the architecture, e.g. "FFNN", "CNN", "ResCNN", "AudioCNN". */
  type: string;
  /** Per-sample input shape, e.g. [64] or [28, 28, 1]. */
  inputShape: number[];
  /** Number of classes (logits). */
  outputDim: number;
  /** Architecture parameters from the model config (hidden sizes, dropout, ...). */
  params: Record<string, unknown>;
}

/** The name the description gives the network input (a layer's `inputs` may name it). */
export const INPUT = "input";

interface LayerBase {
  /** Stable, unique, lowercase name (`linear0`, `block1_conv0`, ...). */
  name: string;
  /** Names of the layers (or {@link INPUT}) whose outputs feed this one, in order. */
  inputs: string[];
  /** Per-sample output shape (channels-last). */
  outputShape: number[];
}

/** Reshapes to `outputShape` (row-major; e.g. a flat 64 → [8, 8, 1]). */
export interface ReshapeLayer extends LayerBase {
  kind: "reshape";
}

/** Flattens [h, w, c] in channels-last order to [h * w * c]. */
export interface FlattenLayer extends LayerBase {
  kind: "flatten";
}

/** y = x Wᵀ + b, W [outFeatures, inFeatures]. */
export interface LinearLayer extends LayerBase {
  kind: "linear";
  inFeatures: number;
  outFeatures: number;
}

/** 2-D convolution with bias, W [outChannels, inChannels, kernelSize, kernelSize]. */
export interface Conv2dLayer extends LayerBase {
  kind: "conv2d";
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride: number;
  /** "same" pads (kernelSize - 1) / 2 on each side (odd kernels, stride 1); "valid" pads nothing. */
  padding: "same" | "valid";
}

/**
 * Batch normalisation over the channel axis, as torch.nn.BatchNorm2d: in training, batch
 * statistics normalise and the running ones update as running = (1 - momentum) * running +
 * momentum * batch (the unbiased batch variance for running_var); in evaluation the running ones
 * normalise. Parameters `weight` (γ, starts at 1), `bias` (β, 0), buffers `running_mean` (0) and
 * `running_var` (1).
 */
export interface BatchNorm2dLayer extends LayerBase {
  kind: "batchnorm2d";
  numFeatures: number;
  eps: number;
  momentum: number;
}

export interface ReluLayer extends LayerBase {
  kind: "relu";
}

/** Max-pooling without padding. */
export interface MaxPool2dLayer extends LayerBase {
  kind: "maxpool2d";
  kernelSize: [number, number];
  stride: [number, number];
}

/**
 * Inverted dropout (torch.nn.Dropout): in training, each value is zeroed with probability `p` and
 * the rest scaled by 1 / (1 - p); identity in evaluation. The mask comes from the network's seeded
 * dropout stream (see {@link dropoutMask}), which is part of the checkpoint.
 */
export interface DropoutLayer extends LayerBase {
  kind: "dropout";
  p: number;
}

/** Element-wise sum of its inputs (residual connections). */
export interface AddLayer extends LayerBase {
  kind: "add";
}

/** Global average pooling over height and width: [h, w, c] → [c]. */
export interface GlobalAvgPoolLayer extends LayerBase {
  kind: "gap";
}

export type LayerDescription =
  | ReshapeLayer
  | FlattenLayer
  | LinearLayer
  | Conv2dLayer
  | BatchNorm2dLayer
  | ReluLayer
  | MaxPool2dLayer
  | DropoutLayer
  | AddLayer
  | GlobalAvgPoolLayer;

export type LayerKind = LayerDescription["kind"];

export interface ModelDescription {
  /** The spec it was built from. */
  spec: NetworkSpec;
  /** Layers in forward (topological) order; the last one outputs the logits. */
  layers: LayerDescription[];
}

/** A named parameter or buffer in PyTorch's layout, row-major. */
export interface ParameterTensor {
  shape: number[];
  data: Float32Array;
}

/** Parameters and buffers by PyTorch name (`linear0.weight`, `bn0.running_var`, ...), in layer order. */
export type ParameterSet = Map<string, ParameterTensor>;
