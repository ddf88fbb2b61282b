/**
 * The TensorFlow.js implementation of Network: a layers model, its optimiser and the dropout stream.
 * trainStep and forward are synchronous (wasm and cpu data are readable with dataSync) and every
 * tensor they create is released by tf.tidy.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { ModelDescription, ParameterSet } from "../../models/index.js";
import type { Rng } from "../../util/rng.js";
import { readOptimizerCheckpoint, writeModelCheckpoint, writeOptimizerCheckpoint } from "../checkpoint.js";
import { NetworkBase } from "../network-base.js";
import { checkPoolLayers, poolLayerOutputs } from "../pooling.js";
import type {
  ForwardOptions,
  ForwardResult,
  LayerOutput,
  Network,
  OptimizerSpec,
  SaveOptions,
} from "../types.js";
import { getParameters } from "./build.js";
import { EngineOptimizer, type OptimizerSnapshot } from "./optimizers.js";
import { attachDropoutRng, SeededConv2D } from "./seeded-layers.js";
import { SLOT_TO_TORCH, wasmVariable } from "./variable-layouts.js";

export class WasmNetwork extends NetworkBase implements Network {
  readonly layerNames: readonly string[];
  private readonly model: tfl.LayersModel;
  private readonly optimizer: EngineOptimizer | null;
  private readonly optimizerSpec: OptimizerSpec | null;
  private readonly trainable: tf.Variable[];
  /** The trainable variables the optimiser updates (`frozen` ones left out): gradients are taken of these only. */
  private readonly updated: tf.Variable[];
  /** Multi-output views of the model (sharing its weights), by requested layer set. */
  private readonly views = new Map<string, tfl.LayersModel>();
  /** The layers in order when the model is a plain chain (forward runs them eagerly), else null. */
  private readonly chain: tfl.layers.Layer[] | null;

  constructor(
    model: tfl.LayersModel,
    description: ModelDescription,
    optimizer: OptimizerSpec | null,
    dropoutRng: Rng,
    batchesTracked = 0,
    frozen: readonly string[] = [],
  ) {
    super(description, dropoutRng, batchesTracked);
    const spec = description.spec;
    this.model = model;
    this.layerNames = Object.freeze(
      model.layers.filter((l) => l.getClassName() !== "InputLayer").map((l) => l.name),
    );
    this.optimizerSpec = optimizer;
    this.optimizer = optimizer ? new EngineOptimizer(optimizer) : null;
    attachDropoutRng(model, dropoutRng);
    this.trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const frozenSet = new Set(frozen);
    const torchNames = model.trainableWeights.map(
      (w) => wasmVariable(description, w.originalName)?.torchName,
    );
    for (const name of frozenSet) {
      if (!torchNames.includes(name)) throw new Error(`frozen: the network has no parameter '${name}'`);
    }
    this.updated = this.trainable.filter((_, i) => !frozenSet.has(torchNames[i] ?? ""));
    this.chain = layerChain(model);
    const outDim = model.outputs[0]?.shape.at(-1);
    if (outDim !== spec.outputDim) {
      throw new Error(
        `model ${spec.type} outputs ${outDim} values per sample, the spec says ${spec.outputDim}`,
      );
    }
  }

  /** Stable names of the trainable variables, in the order the optimiser state uses. */
  get variableNames(): string[] {
    return this.model.trainableWeights.map((w) => w.originalName);
  }

  trainStep(
    x: Float32Array,
    batchSize: number,
    y: Int32Array,
    classWeights?: Float32Array | null,
    sampleWeights?: Float32Array | null,
    logitsOut?: Float32Array | null,
  ): number {
    const target = this.trainTargets(x, batchSize, y, classWeights, sampleWeights, logitsOut);
    const optimizer = this.optimizer as NonNullable<typeof this.optimizer>;
    this.batchesTracked += 1;
    return tf.tidy(() => {
      const xt = tf.tensor(x, [batchSize, ...this.spec.inputShape]);
      const tt = tf.tensor2d(target, [batchSize, this.spec.outputDim]);
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.model.apply(xt, { training: true }) as tf.Tensor;
        // Read inside the tape: the values are this forward's; reading them changes no gradient.
        if (logitsOut) logitsOut.set(logits.dataSync() as Float32Array);
        return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tt))) as tf.Scalar;
      }, this.updated);
      // A frozen variable has no gradient: the optimiser leaves it (and its slots) alone.
      optimizer.apply(
        this.trainable,
        this.trainable.map((v) => grads[v.name] ?? null),
      );
      return (value.dataSync() as Float32Array)[0] as number;
    });
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
    for (const name of names) {
      if (!this.layerNames.includes(name)) {
        throw new Error(
          `forward: model ${this.spec.type} has no layer '${name}'; layers: ${this.layerNames.join(", ")}`,
        );
      }
    }
    if (options.pool) checkPoolLayers(options.pool, names, "forward");
    const result = this.chain
      ? this.forwardChain(this.chain, x, batchSize, names)
      : this.forwardGraph(x, batchSize, names);
    return {
      logits: result.logits,
      layers: poolLayerOutputs(result.layers, options.pool, batchSize, "forward"),
    };
  }

  /** Eval-mode forward pass through the model's graph (a view with the asked layers as outputs). */
  private forwardGraph(x: Float32Array, batchSize: number, names: string[]): ForwardResult {
    // The logits layer itself may be asked for: it is the view's first output, not a second one
    // (TensorFlow.js returns null for an output listed twice).
    const logitsLayer = this.model.outputLayers[0]?.name;
    const extra = names.filter((n) => n !== logitsLayer);
    const view = this.view(extra);
    let result: ForwardResult | null = null;
    tf.tidy(() => {
      const xt = tf.tensor(x, [batchSize, ...this.spec.inputShape]);
      const out = view.apply(xt, { training: false }) as tf.Tensor | tf.Tensor[];
      const list = Array.isArray(out) ? out : [out];
      const layers: Record<string, LayerOutput> = {};
      names.forEach((name) => {
        const t = list[name === logitsLayer ? 0 : extra.indexOf(name) + 1] as tf.Tensor;
        layers[name] = { data: t.dataSync() as Float32Array, shape: t.shape.slice() };
      });
      result = { logits: (list[0] as tf.Tensor).dataSync() as Float32Array, layers };
    });
    return result as unknown as ForwardResult;
  }

  /**
   * Eval-mode forward pass of a chain model, layer by layer on concrete tensors: a convolution
   * followed by a ReLU runs as one fused kernel (unless the convolution's own output is asked for),
   * and the graph executor's bookkeeping is skipped. Same values as model.apply.
   */
  private forwardChain(
    chain: tfl.layers.Layer[],
    x: Float32Array,
    batchSize: number,
    names: string[],
  ): ForwardResult {
    const wanted = new Set(names);
    const layers: Record<string, LayerOutput> = {};
    const keep = (name: string, t: tf.Tensor) => {
      if (wanted.has(name)) layers[name] = { data: t.dataSync() as Float32Array, shape: t.shape.slice() };
    };
    let logits: Float32Array = new Float32Array(0);
    // Nothing is returned from the tidy: it would walk a returned typed array element by element.
    tf.tidy(() => {
      let h: tf.Tensor = tf.tensor(x, [batchSize, ...this.spec.inputShape]);
      for (let i = 0; i < chain.length; i++) {
        const layer = chain[i] as tfl.layers.Layer;
        const next = chain[i + 1];
        const prev = h;
        if (layer instanceof SeededConv2D && next && isPlainRelu(next) && !wanted.has(layer.name)) {
          h = layer.callWithRelu(prev as tf.Tensor4D);
          keep(next.name, h);
          i++;
        } else {
          h = layer.apply(prev, { training: false }) as tf.Tensor;
          keep(layer.name, h);
        }
        // Each activation is freed once the next exists: the peak is two layers, not the network.
        if (h !== prev) prev.dispose();
      }
      logits = h.dataSync() as Float32Array;
    });
    return { logits, layers };
  }

  protected currentLearningRate(): number | null {
    return this.optimizer ? this.optimizer.learningRate : null;
  }

  protected applyLearningRate(lr: number): void {
    if (this.optimizer) this.optimizer.learningRate = lr;
  }

  /** Parameters and running statistics in PyTorch's names and layouts. */
  parameters(): ParameterSet {
    this.assertAlive();
    return getParameters(this.model, this.description);
  }

  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    this.assertAlive();
    if (options.optimizer) {
      if (!this.optimizer || !this.optimizerSpec)
        throw new Error("save: this network has no optimizer state to save");
      const snapshot = this.optimizer.snapshot();
      const names = this.variableNames;
      const slots = new Map<string, Float32Array>();
      for (const s of snapshot.slots) {
        const variable = wasmVariable(this.description, names[s.variable] ?? "");
        const slot = SLOT_TO_TORCH[s.slot];
        if (!variable || !slot)
          throw new Error(`save: optimiser slot ${s.slot} of variable ${s.variable} has no name`);
        slots.set(`${variable.torchName}.${slot}`, variable.toTorch(s.values));
      }
      await writeOptimizerCheckpoint(dir, {
        optimizer: this.optimizerSpec,
        learningRate: snapshot.learningRate,
        step: snapshot.step,
        slots,
        engine: "wasm",
      });
    }
    await writeModelCheckpoint(dir, {
      spec: this.spec,
      params: this.parameters(),
      batchesTracked: this.batchesTracked,
      dropoutRng: this.dropoutRng.getState(),
      engine: "wasm",
      ...(options.classNames ? { classNames: [...options.classNames] } : {}),
    });
  }

  async loadOptimizerState(dir: string): Promise<void> {
    this.assertAlive();
    if (!this.optimizer) throw new Error("loadOptimizerState: this network was created without an optimizer");
    const saved = await readOptimizerCheckpoint(dir, this.description);
    if (!saved) return;
    const snapshot: OptimizerSnapshot = {
      type: saved.optimizer.type,
      learningRate: saved.learningRate,
      step: saved.step,
      slots: [],
    };
    this.variableNames.forEach((name, variable) => {
      const v = wasmVariable(this.description, name);
      if (!v) return;
      for (const [wasmSlot, torchSlot] of Object.entries(SLOT_TO_TORCH)) {
        const values = saved.slots.get(`${v.torchName}.${torchSlot}`);
        if (values)
          snapshot.slots.push({ slot: wasmSlot, variable, shape: v.wasmShape, values: v.toWasm(values) });
      }
    });
    this.optimizer.restore(snapshot, this.trainable);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer?.disposeSlots();
    this.views.clear();
    this.model.dispose();
  }

  private view(names: string[]): tfl.LayersModel {
    if (names.length === 0) return this.model;
    const key = names.join("\u0000");
    let view = this.views.get(key);
    if (!view) {
      // tf.model over the same symbolic tensors shares the layers (and weights): one forward pass.
      const outputs = [
        this.model.outputs[0] as tfl.SymbolicTensor,
        ...names.map((n) => this.model.getLayer(n).output as tfl.SymbolicTensor),
      ];
      view = tfl.model({ inputs: this.model.inputs, outputs });
      this.views.set(key, view);
    }
    return view;
  }
}

/**
 * The model's layers (input layer excluded) when each one takes exactly the previous layer's
 * output and the last one gives the model's only output; null for graphs (residual blocks).
 */
function layerChain(model: tfl.LayersModel): tfl.layers.Layer[] | null {
  const all = model.layers;
  if (all[0]?.getClassName() !== "InputLayer" || model.outputs.length !== 1) return null;
  for (let i = 1; i < all.length; i++) {
    const nodes = (all[i] as tfl.layers.Layer).inboundNodes;
    const inbound = nodes.length === 1 ? nodes[0]?.inboundLayers : undefined;
    if (inbound?.length !== 1 || inbound[0] !== all[i - 1]) return null;
  }
  const last = all.at(-1);
  if (!last || model.outputs[0] !== last.output) return null;
  return all.slice(1);
}

function isPlainRelu(layer: tfl.layers.Layer): boolean {
  return (
    layer.getClassName() === "ReLU" && (layer as unknown as { maxValue?: number | null }).maxValue == null
  );
}
