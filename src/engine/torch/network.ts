/**
 * The libtorch implementation of Network. The native side holds the layers, parameters and
 * optimiser slots; this side keeps the description, the dropout stream (masks are drawn here, from
 * the same stream and in the same order as the wasm engine, so dropout is identical on both
 * engines and resumes exactly) and the checkpoint files. Inputs are passed as views of the JS
 * arrays (no copy on the CPU); outputs come back as arrays that own the result tensors.
 */
import { dropoutMask, type ModelDescription, type ParameterSet } from "../../models/index.js";
import type { Rng } from "../../util/rng.js";
import { checkPoolLayers, checkPoolPlan } from "../pooling.js";
import type {
  ForwardOptions,
  ForwardResult,
  LayerOutput,
  Network,
  OptimizerSpec,
  TrainableOptions,
} from "../types.js";
import type { NativeNet, TorchAddon } from "./addon.js";
import { NativeNetworkBase } from "./native-network.js";

export class TorchNetwork extends NativeNetworkBase<NativeNet> implements Network {
  readonly layerNames: readonly string[];
  readonly device: string;
  protected readonly native: NativeNet;
  private readonly layerIndex: Map<string, number>;
  /** Dropout layers in forward order with their per-sample size (masks are drawn in this order). */
  private readonly dropouts: { p: number; size: number }[];

  constructor(
    addon: TorchAddon,
    description: ModelDescription,
    params: ParameterSet,
    optimizer: OptimizerSpec | null,
    dropoutRng: Rng,
    options: { device: string; batchesTracked?: number } & TrainableOptions,
  ) {
    super(description, dropoutRng, options.batchesTracked ?? 0, optimizer);
    this.layerNames = Object.freeze(description.layers.map((l) => l.name));
    this.layerIndex = new Map(description.layers.map((l, i) => [l.name, i]));
    this.device = options.device;
    this.dropouts = description.layers.flatMap((l) =>
      l.kind === "dropout" ? [{ p: l.p, size: l.outputShape.reduce((a, b) => a * b, 1) }] : [],
    );
    const last = description.layers.at(-1);
    if (last?.outputShape.length !== 1 || last.outputShape[0] !== this.spec.outputDim) {
      throw new Error(
        `model ${this.spec.type} outputs [${last?.outputShape}] per sample, the spec says ${this.spec.outputDim}`,
      );
    }
    this.native = new addon.Net(description.layers, this.spec.inputShape, options.device);
    const values: Record<string, Float32Array> = {};
    for (const [name, p] of params) values[name] = p.data;
    this.native.setParameters(values);
    // Frozen parameters get no gradient natively, so the optimiser never updates or decays them.
    if (options.frozen && options.frozen.length > 0) this.native.setFrozen([...options.frozen]);
    this.startOptimizer();
  }

  trainStep(
    x: Float32Array,
    batchSize: number,
    y: Int32Array,
    classWeights?: Float32Array | null,
    sampleWeights?: Float32Array | null,
    logitsOut?: Float32Array | null,
  ): number {
    return this.nativeTrainStep(x, batchSize, y, classWeights, sampleWeights, logitsOut, (target, out) => {
      const masks = this.dropouts.map(({ p, size }) =>
        p > 0 ? dropoutMask(batchSize * size, p, this.dropoutRng) : new Float32Array(0),
      );
      return this.native.trainStep(x, batchSize, target, masks, out);
    });
  }

  /**
   * `options.pool`: the addon pools those taps natively from the activation (float64 sums in
   * `applyPooling`'s order, its channels-last layout), so only the pooled values cross into JS.
   */
  forward(
    x: Float32Array,
    batchSize: number,
    outputs: readonly string[] = [],
    options: ForwardOptions = {},
  ): ForwardResult {
    this.assertAlive();
    this.checkInput(x, batchSize, "forward");
    const names = [...new Set(outputs)];
    const taps = names.map((name) => {
      const i = this.layerIndex.get(name);
      if (i === undefined) {
        throw new Error(
          `forward: model ${this.spec.type} has no layer '${name}'; layers: ${this.layerNames.join(", ")}`,
        );
      }
      return i;
    });
    const pool = options.pool;
    if (pool) checkPoolLayers(pool, names, "forward");
    const shapes = taps.map((i) => this.description.layers[i]?.outputShape ?? []);
    const plans = names.map((name, k) => {
      const plan = pool && Object.hasOwn(pool, name) ? pool[name] : undefined;
      if (plan) checkPoolPlan(plan, shapes[k] as number[], name, "forward");
      return plan ?? null;
    });
    const native = plans.map((plan) => (plan && plan.kind !== "identity" ? plan : null));
    const result = this.native.forward(x, batchSize, taps, native);
    const layers: Record<string, LayerOutput> = {};
    names.forEach((name, k) => {
      const data = result.layers[k] as Float32Array;
      const plan = plans[k];
      if (!plan) {
        layers[name] = { data, shape: [batchSize, ...(shapes[k] as number[])] };
        return;
      }
      // An addon built before forward took `pools` returns the whole activation.
      if (data.length !== batchSize * plan.size) {
        throw new Error(
          `forward: the torch addon returned ${data.length} values for layer '${name}' pooled to ${plan.size} per sample; rebuild it (npm run build:torch)`,
        );
      }
      layers[name] = { data, shape: [batchSize, plan.size] };
    });
    return { logits: result.logits, layers };
  }
}
