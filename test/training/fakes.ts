import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TrainerDeps } from "../../src/assembly/train-run.js";
import type { Batch, Dataset, Subset, SubsetName } from "../../src/data/types.js";
import type {
  EngineInfo,
  Network,
  NetworkRngState,
  NetworkSpec,
  OptimizerSpec,
} from "../../src/engine/types.js";
import type { TrainCallback } from "../../src/training/types.js";
import { Rng } from "../../src/util/rng.js";

/**
 * Small pure-JS stand-ins for the engine and a dataset: a softmax regression trained with momentum
 * SGD and input dropout (so optimiser state and network RNG state both matter for resume), and
 * Gaussian blobs. They let the trainer loop be tested without TF.js.
 */
export class FakeNetwork implements Network {
  readonly layerNames = ["linear"];
  private readonly w: Float32Array;
  private readonly b: Float32Array;
  private readonly vw: Float32Array;
  private readonly vb: Float32Array;
  private lr: number;
  private readonly rng: Rng;
  readonly inputSize: number;
  /** The size of every batch trained on, in order. */
  readonly batchSizes: number[] = [];
  /** Calls of `forward` (eval-mode passes besides the training steps' own), and rows they ran. */
  readonly forwardCalls = { calls: 0, rows: 0 };

  constructor(
    readonly spec: NetworkSpec,
    private readonly optimizer: OptimizerSpec | null,
    seed: number,
  ) {
    this.inputSize = spec.inputShape.reduce((a, b) => a * b, 1);
    const init = new Rng(seed);
    this.w = new Float32Array(this.inputSize * spec.outputDim).map(() => init.normal() * 0.1);
    this.b = new Float32Array(spec.outputDim);
    this.vw = new Float32Array(this.w.length);
    this.vb = new Float32Array(this.b.length);
    this.lr = optimizer?.learningRate ?? 0.1;
    this.rng = Rng.derive(seed, "dropout");
  }

  private logitsOf(
    x: Float32Array,
    n: number,
    dropout: boolean,
  ): { logits: Float32Array; xin: Float32Array } {
    const d = this.inputSize;
    const c = this.spec.outputDim;
    const xin = Float32Array.from(x);
    if (dropout) for (let i = 0; i < xin.length; i++) if (this.rng.random() < 0.1) xin[i] = 0;
    const logits = new Float32Array(n * c);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < c; k++) {
        let s = this.b[k] as number;
        for (let j = 0; j < d; j++) s += (xin[i * d + j] as number) * (this.w[j * c + k] as number);
        logits[i * c + k] = s;
      }
    }
    return { logits, xin };
  }

  trainStep(
    x: Float32Array,
    n: number,
    y: Int32Array,
    classWeights?: Float32Array | null,
    sampleWeights?: Float32Array | null,
    logitsOut?: Float32Array | null,
  ): number {
    const d = this.inputSize;
    const c = this.spec.outputDim;
    this.batchSizes.push(n);
    const { logits, xin } = this.logitsOf(x, n, true);
    if (logitsOut) {
      if (logitsOut.length !== n * c)
        throw new Error(`trainStep: logitsOut holds ${logitsOut.length} values`);
      logitsOut.set(logits);
    }
    const gw = new Float32Array(this.w.length);
    const gb = new Float32Array(c);
    let lossSum = 0;
    let wSum = 0;
    for (let i = 0; i < n; i++) wSum += classWeights ? (classWeights[y[i] as number] as number) : 1;
    for (let i = 0; i < n; i++) {
      const yi = y[i] as number;
      const wi =
        ((classWeights ? (classWeights[yi] as number) : 1) *
          (sampleWeights ? (sampleWeights[i] as number) : 1)) /
        (wSum || 1);
      let max = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < c; k++) max = Math.max(max, logits[i * c + k] as number);
      let z = 0;
      for (let k = 0; k < c; k++) z += Math.exp((logits[i * c + k] as number) - max);
      lossSum += wi * (Math.log(z) + max - (logits[i * c + yi] as number));
      for (let k = 0; k < c; k++) {
        const g = wi * (Math.exp((logits[i * c + k] as number) - max) / z - (k === yi ? 1 : 0));
        gb[k] = (gb[k] as number) + g;
        for (let j = 0; j < d; j++)
          gw[j * c + k] = (gw[j * c + k] as number) + g * (xin[i * d + j] as number);
      }
    }
    const momentum = this.optimizer?.momentum ?? 0.9;
    for (let i = 0; i < this.w.length; i++) {
      this.vw[i] = momentum * (this.vw[i] as number) + (gw[i] as number);
      this.w[i] = (this.w[i] as number) - this.lr * (this.vw[i] as number);
    }
    for (let k = 0; k < c; k++) {
      this.vb[k] = momentum * (this.vb[k] as number) + (gb[k] as number);
      this.b[k] = (this.b[k] as number) - this.lr * (this.vb[k] as number);
    }
    return Math.fround(lossSum);
  }

  forward(x: Float32Array, n: number) {
    this.forwardCalls.calls++;
    this.forwardCalls.rows += n;
    return { logits: this.logitsOf(x, n, false).logits, layers: {} };
  }

  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  getLearningRate(): number {
    return this.lr;
  }

  getRngState(): NetworkRngState {
    return { dropout: this.rng.getState() };
  }

  setRngState(state: NetworkRngState): void {
    this.rng.setState(state.dropout);
  }

  async save(dir: string, options?: { optimizer?: boolean }): Promise<void> {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "model.json"), JSON.stringify({ spec: this.spec }));
    writeFileSync(join(dir, "weights.bin"), concat(this.w, this.b));
    if (options?.optimizer) {
      writeFileSync(join(dir, "optimizer.json"), JSON.stringify({ type: "SGD" }));
      writeFileSync(join(dir, "optimizer.bin"), concat(this.vw, this.vb));
    }
  }

  loadWeights(dir: string): void {
    const all = readFloats(join(dir, "weights.bin"));
    this.w.set(all.subarray(0, this.w.length));
    this.b.set(all.subarray(this.w.length));
  }

  async loadOptimizerState(dir: string): Promise<void> {
    if (!existsSync(join(dir, "optimizer.bin"))) return;
    const all = readFloats(join(dir, "optimizer.bin"));
    this.vw.set(all.subarray(0, this.vw.length));
    this.vb.set(all.subarray(this.vw.length));
  }

  disposed = false;
  dispose(): void {
    this.disposed = true;
  }
}

function concat(a: Float32Array, b: Float32Array): Uint8Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return new Uint8Array(out.buffer);
}

function readFloats(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Three Gaussian blobs in 8 dimensions; train/dev/test sizes configurable. */
export function blobsDataset(
  seed: number,
  sizes = { train: 90, dev: 30, test: 30 },
  numClasses = 3,
): Dataset {
  const d = 8;
  const rng = Rng.derive(seed, "blobs");
  const centers = Array.from({ length: numClasses }, () =>
    Array.from({ length: d }, () => rng.normal() * 1.5),
  );
  const make = (name: SubsetName, size: number, offset: number): Subset => {
    const labels = new Int32Array(size).map((_, i) => i % numClasses);
    const x = new Float32Array(size * d);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < d; j++) x[i * d + j] = (centers[labels[i] as number]?.[j] as number) + rng.normal();
    }
    const sourceIndex = new Int32Array(size).map((_, i) => offset + i);
    return {
      name,
      size,
      labels,
      sourceIndex,
      batch(positions: ArrayLike<number>): Batch {
        const bx = new Float32Array(positions.length * d);
        const by = new Int32Array(positions.length);
        for (let i = 0; i < positions.length; i++) {
          const p = positions[i] as number;
          bx.set(x.subarray(p * d, (p + 1) * d), i * d);
          by[i] = labels[p] as number;
        }
        return { x: bx, y: by, index: Int32Array.from(positions) };
      },
    };
  };
  const subsets = {
    train: make("train", sizes.train, 0),
    dev: make("dev", sizes.dev, sizes.train),
    test: make("test", sizes.test, sizes.train + sizes.dev),
  };
  return {
    id: "Blobs",
    featureShape: [d],
    classNames: Array.from({ length: numClasses }, (_, i) => `c${i}`),
    outputDim: numClasses,
    isImage: false,
    subset: (name) => subsets[name],
  };
}

/**
 * Records, at each evaluation, the samples the fake network has trained on so far (the sum of the
 * sizes of the batches it was handed), by iteration.
 */
export function samplesDrawn(): TrainCallback & { atEvaluation: Map<number, number> } {
  const atEvaluation = new Map<number, number>();
  return {
    name: "samples-drawn",
    atEvaluation,
    onValidationEnd: (ctx, iteration) => {
      const sizes = (ctx.network as FakeNetwork).batchSizes;
      atEvaluation.set(
        iteration,
        sizes.reduce((a, b) => a + b, 0),
      );
    },
  };
}

/** TrainerDeps backed by the fakes; `networks` collects every network created or loaded. */
export function fakeDeps(): TrainerDeps & { networks: FakeNetwork[] } {
  const networks: FakeNetwork[] = [];
  const engine: EngineInfo = { backend: "fake", simd: false, version: "0" };
  return {
    networks,
    initEngine: async () => engine,
    resolveEngine: async (choice) => (choice === "auto" ? "wasm" : choice),
    createDataset: async (config) => blobsDataset(config.split_seed),
    createNetwork: (spec, optimizer, seed) => {
      const net = new FakeNetwork(spec, optimizer, seed);
      networks.push(net);
      return net;
    },
    loadNetwork: async (dir, optimizer) => {
      const { spec } = JSON.parse(readFileSync(join(dir, "model.json"), "utf8")) as { spec: NetworkSpec };
      const net = new FakeNetwork(spec, optimizer ?? null, 0);
      net.loadWeights(dir);
      networks.push(net);
      return net;
    },
  };
}
