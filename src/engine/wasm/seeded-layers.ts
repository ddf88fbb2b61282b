/**
 * The TensorFlow.js layers the wasm engine builds descriptions with where TensorFlow.js' own do not fit: a seeded
 * dropout and a convolution without the fused training path.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { dropoutMask } from "../../models/index.js";
import type { Rng } from "../../util/rng.js";

type Kwargs = Record<string, unknown>;

/**
 * Inverted dropout (as torch.nn.Dropout) that draws a fresh mask on every training call from a
 * seeded xoshiro stream. TensorFlow.js' own Dropout with a fixed `seed` repeats the same mask on every call,
 * and without one it draws from Math.random; neither is what a reproducible run needs. The stream
 * is attached by the engine (see {@link attachDropoutRng}) and is part of the network's RNG state.
 */
export class SeededDropout extends tfl.layers.Layer {
  static className = "CurriculaDropout";
  readonly rate: number;
  /** The stream masks are drawn from; shared by all dropout layers of one network. */
  rng: Rng | null = null;

  constructor(args: { rate: number; name?: string }) {
    super(args);
    if (!(args.rate >= 0 && args.rate < 1)) {
      throw new Error(`dropout rate must be in [0, 1), got ${args.rate}`);
    }
    this.rate = args.rate;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const input = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    if (kwargs.training !== true || this.rate === 0) return input;
    const rng = this.rng;
    if (!rng) {
      throw new Error(
        `dropout layer '${this.name}' has no random stream attached; build networks through the engine (createNetwork)`,
      );
    }
    return tf.tidy(() => tf.mul(input, tf.tensor(dropoutMask(input.size, this.rate, rng), input.shape)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
tf.serialization.registerClass(SeededDropout);

/**
 * 2-D convolution (NHWC) with bias, as TensorFlow.js' Conv2D but without its fused training path: TensorFlow.js' fused
 * conv computes the input gradient eagerly even when nothing needs it (e.g. for the first layer,
 * whose input is the data), which costs a full extra convolution per step. While a gradient is
 * being recorded this layer uses plain conv2d + add, whose gradients are only computed when needed;
 * in inference it uses the fused kernel. Weights: `kernel` [k, k, in, filters] and `bias` [filters].
 */
export class SeededConv2D extends tfl.layers.Layer {
  static className = "CurriculaConv2D";
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: "same" | "valid";
  private kernel: tfl.LayerVariable | null = null;
  private bias: tfl.LayerVariable | null = null;

  constructor(args: {
    filters: number;
    kernelSize: number;
    strides?: number;
    padding?: "same" | "valid";
    name?: string;
  }) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.padding = args.padding ?? "same";
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const inChannels = shape[shape.length - 1] as number;
    const zeros = tfl.initializers.zeros();
    this.kernel = this.addWeight(
      "kernel",
      [this.kernelSize, this.kernelSize, inChannels, this.filters],
      "float32",
      zeros,
    );
    this.bias = this.addWeight("bias", [this.filters], "float32", zeros);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const out = (size: number | null) => {
      if (size === null) return null;
      return this.padding === "same"
        ? Math.ceil(size / this.strides)
        : Math.floor((size - this.kernelSize) / this.strides) + 1;
    };
    return [shape[0] ?? null, out(shape[1] ?? null), out(shape[2] ?? null), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const input = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const kernel = this.kernel?.read() as tf.Tensor4D;
    const bias = this.bias?.read() as tf.Tensor1D;
    return tf.tidy(() => {
      if (tf.engine().state.gradientDepth > 0) {
        return tf.add(tf.conv2d(input, kernel, this.strides, this.padding), bias);
      }
      return tf.fused.conv2d({ x: input, filter: kernel, strides: this.strides, pad: this.padding, bias });
    });
  }

  /**
   * Inference only: this convolution followed by a ReLU, as one fused kernel (bias and clamp in
   * the convolution's output loop; the same values as conv then relu, one pass less over memory).
   */
  callWithRelu(input: tf.Tensor4D): tf.Tensor4D {
    const kernel = this.kernel?.read() as tf.Tensor4D;
    const bias = this.bias?.read() as tf.Tensor1D;
    return tf.fused.conv2d({
      x: input,
      filter: kernel,
      strides: this.strides,
      pad: this.padding,
      bias,
      activation: "relu",
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
    };
  }
}
tf.serialization.registerClass(SeededConv2D);

/** Points every dropout layer of `model` at one shared stream. */
export function attachDropoutRng(model: tfl.LayersModel, rng: Rng): void {
  for (const layer of model.layers) if (layer instanceof SeededDropout) layer.rng = rng;
}
