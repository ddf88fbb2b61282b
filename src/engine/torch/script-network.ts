/**
 * A TorchScript module as a Network on the torch engine (`model: TorchScript`, `path:` its file; the
 * contract is docs/models.md). The native side (native/torch/src/script.cc) loads the module with
 * torch::jit::load and trains its named_parameters with the same loss and optimisers as the built-in
 * networks; this side keeps the spec, the seed stream and the checkpoint files, which hold the
 * module's own parameter names. The module's own weights are the initial ones, except those a run's
 * `model.weights` replaces (`options.weights`); `options.frozen` parameters get no gradient, so the
 * optimiser and its weight decay never change them (as on the built-in networks). Randomness inside it
 * (dropout) comes from libtorch's generator, seeded before each training step from the network's
 * dropout stream, which checkpoints save, so runs repeat and resume exactly.
 *
 * Layer names (what `forward(x, outputs)` may ask for): the submodules that forward runs, by their
 * dotted names in the order of their outputs (`stem`, `block1.conv1`, ..., `block1`, ...; the
 * output of a submodule is the value of the last operation inside it in forward's inlined graph),
 * then "embeddings" (the module's `embeddings(x)`, when it has one) and "forward" (the logits).
 */
import type { ParameterSet, ParameterShape } from "../../models/index.js";
import { DataError } from "../../util/errors.js";
import type { Rng } from "../../util/rng.js";
import { checkPoolLayers, poolLayerOutputs } from "../pooling.js";
import type {
  ForwardOptions,
  ForwardResult,
  LayerOutput,
  Network,
  NetworkSpec,
  OptimizerSpec,
  ScriptNetworkOptions,
} from "../types.js";
import type { NativeScriptNet, TorchAddon } from "./addon.js";
import { NativeNetworkBase } from "./native-network.js";

/** The name of the embeddings(x) output and of forward(x)'s own (the logits). */
export const EMBEDDINGS = "embeddings";
export const FORWARD = "forward";

/** The module file a TorchScript spec names (`model.path`). */
export function scriptPath(spec: NetworkSpec): string {
  const path = spec.params.path;
  if (typeof path !== "string" || path === "")
    throw new DataError(`model.path: expected the path of a TorchScript file, got ${JSON.stringify(path)}`);
  return path;
}

/** PyTorch's per-sample layout of a channels-last shape: [h, w, c] → [c, h, w]; others as they are. */
export function torchLayout(shape: readonly number[]): number[] {
  return shape.length === 3 ? [shape[2] as number, shape[0] as number, shape[1] as number] : [...shape];
}

/**
 * The line of a libtorch error that says what went wrong: the first, or for an error inside
 * TorchScript code (a traceback of the module's source follows the first line) the last
 * `...Error: ` line.
 */
function errorLine(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/^torch engine: /, "");
  const lines = message.split("\n").filter((line) => line.trim() !== "");
  const raised = lines.filter((line) => /^\w*Error: /.test(line)).at(-1);
  return (message.includes("Traceback of TorchScript") && raised ? raised : lines[0]) ?? message;
}

export class TorchScriptNetwork extends NativeNetworkBase<NativeScriptNet> implements Network {
  readonly layerNames: readonly string[];
  readonly device: string;
  /** The module file. */
  readonly file: string;
  protected readonly native: NativeScriptNet;
  private readonly modules: ReadonlySet<string>;
  /** The module's named parameters (what trains), in its order. */
  private readonly parameterNames: readonly string[];
  private readonly hasEmbeddings: boolean;

  /**
   * Loads the module of `spec.params.path`; `params` (from a checkpoint) replace its weights, or
   * `options.weights` (start weights, already checked against the module) those of their names. The
   * module is checked against the spec before anything trains: forward on a float32 batch of the
   * dataset's shape must work and return [batch, spec.outputDim] float32 logits (outputDim 0: any
   * width, for a teacher whose classes are not the data's).
   */
  constructor(
    addon: TorchAddon,
    spec: NetworkSpec,
    params: ParameterSet | null,
    optimizer: OptimizerSpec | null,
    dropoutRng: Rng,
    options: ScriptNetworkOptions,
  ) {
    super({ spec, layers: [] }, dropoutRng, options.batchesTracked ?? 0, optimizer);
    this.file = scriptPath(spec);
    this.device = options.device;
    try {
      this.native = new addon.ScriptNet(this.file, spec.inputShape, options.device);
    } catch (error) {
      const message = errorLine(error);
      if (/^parameter '.*expected float32/.test(message)) throw new DataError(`${this.file}: ${message}`);
      if (/^device /.test(message)) throw new DataError(`${this.file}: ${message}`);
      throw new DataError(
        `${this.file} (model.path): not a TorchScript module that torch.jit.load reads (${message}); save one with torch.jit.script(module).save(path) or torch.jit.trace(module, example).save(path)`,
      );
    }
    try {
      const info = this.native.describe();
      this.modules = new Set(info.modules);
      this.hasEmbeddings = info.embeddings;
      this.layerNames = Object.freeze([...info.modules, ...(info.embeddings ? [EMBEDDINGS] : []), FORWARD]);
      this.parameterNames = Object.freeze([...info.parameters]);
      if (params) this.restoreParameters(params, info.parameters, info.buffers);
      if (options.weights) this.startWeights(options.weights);
      if (options.frozen && options.frozen.length > 0) this.native.setFrozen([...options.frozen]);
      this.checkShapes();
    } catch (error) {
      this.native.dispose();
      throw error;
    }
    this.startOptimizer();
  }

  /** A checkpoint's values: every parameter of the module must be there; batch norm's step counts follow. */
  private restoreParameters(params: ParameterSet, parameters: string[], buffers: string[]): void {
    const missing = parameters.filter((name) => !params.has(name));
    if (missing.length > 0) {
      throw new DataError(
        `the checkpoint does not hold the parameters ${missing.join(", ")} of ${this.file}; was it saved from another module?`,
      );
    }
    const values: Record<string, Float32Array> = {};
    for (const [name, p] of params) values[name] = p.data;
    for (const name of buffers)
      if (name.endsWith(".num_batches_tracked")) values[name] = Float32Array.of(this.batchesTracked);
    try {
      this.native.setParameters(values);
    } catch (error) {
      throw new DataError(`the checkpoint does not fit ${this.file}: ${errorLine(error)}`);
    }
  }

  /** Start weights over the module's own: tensors of its parameters and buffers, their shapes checked before. */
  private startWeights(weights: ParameterSet): void {
    const values: Record<string, Float32Array> = {};
    for (const [name, p] of weights) values[name] = p.data;
    try {
      this.native.setParameters(values);
    } catch (error) {
      throw new DataError(`the start weights (model.weights) do not fit ${this.file}: ${errorLine(error)}`);
    }
  }

  /** The module's parameters and floating-point buffers by name, with their shapes; parameters train. */
  tensors(): ParameterShape[] {
    this.assertAlive();
    const trainable = new Set(this.parameterNames);
    return this.native
      .getParameters()
      .map((p) => ({ name: p.name, shape: [...p.shape], trainable: trainable.has(p.name) }));
  }

  /** The module against the dataset: forward on a float32 batch of its shape, logits of its classes. */
  private checkShapes(): void {
    const batch = 2;
    const shape = `[${[batch, ...torchLayout(this.spec.inputShape)].join(", ")}]`;
    let out: ReturnType<NativeScriptNet["forward"]>;
    try {
      out = this.native.forward(new Float32Array(batch * this.inputSize), batch, false, []);
    } catch (error) {
      throw new DataError(
        `${this.file}: forward(x) fails on the dataset's input, float32 of shape ${shape}: ${errorLine(error)}`,
      );
    }
    if (out.dtype !== "Float") {
      throw new DataError(`${this.file}: forward(x) returns ${out.dtype} logits, expected float32`);
    }
    const classes = this.spec.outputDim;
    const ok =
      out.shape.length === 2 && out.shape[0] === batch && (classes === 0 || out.shape[1] === classes);
    if (!ok) {
      throw new DataError(
        `${this.file}: forward(x) on input ${shape} returns shape [${out.shape.join(", ")}], expected [${batch}, ${classes === 0 ? "d" : classes}]${classes === 0 ? "" : ` (the dataset has ${classes} classes)`}`,
      );
    }
  }

  trainStep(
    x: Float32Array,
    batchSize: number,
    y: Int32Array,
    classWeights?: Float32Array | null,
    sampleWeights?: Float32Array | null,
    logitsOut?: Float32Array | null,
  ): number {
    return this.nativeTrainStep(x, batchSize, y, classWeights, sampleWeights, logitsOut, (target, out) =>
      this.native.trainStep(x, batchSize, target, this.dropoutRng.nextUint32(), out),
    );
  }

  /** `options.pool` is applied in JS to the layer outputs (`poolLayerOutputs`). */
  forward(
    x: Float32Array,
    batchSize: number,
    outputs: readonly string[] = [],
    options: ForwardOptions = {},
  ): ForwardResult {
    this.assertAlive();
    this.checkInput(x, batchSize, "forward");
    const names = [...new Set(outputs)];
    const taps: string[] = [];
    for (const name of names) {
      if (name === FORWARD || (name === EMBEDDINGS && this.hasEmbeddings)) continue;
      if (this.modules.has(name)) {
        taps.push(name);
        continue;
      }
      throw new Error(
        `forward: the TorchScript module ${this.file} has no output '${name}'; outputs: ${this.layerNames.join(", ")}`,
      );
    }
    if (options.pool) checkPoolLayers(options.pool, names, "forward");
    const result = this.native.forward(x, batchSize, names.includes(EMBEDDINGS), taps);
    const layers: Record<string, LayerOutput> = {};
    taps.forEach((name, k) => {
      const tap = result.taps[k];
      if (tap) layers[name] = { data: tap.data, shape: tap.shape };
    });
    if (names.includes(FORWARD)) layers[FORWARD] = { data: result.logits, shape: result.shape };
    if (result.embeddings && result.embeddingShape) {
      const [b, ...rest] = result.embeddingShape;
      const d = rest.reduce((a, v) => a * v, 1);
      layers[EMBEDDINGS] = { data: result.embeddings, shape: [b ?? batchSize, d] };
    }
    return { logits: result.logits, layers: poolLayerOutputs(layers, options.pool, batchSize, "forward") };
  }
}
