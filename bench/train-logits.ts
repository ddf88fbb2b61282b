/**
 * What the online trackers cost a training step: trainStep with and without `logitsOut` (the step's
 * own logits handed back), measured alternately on two networks of the same seed, per engine and
 * model (the shapes of bench/train.ts); and the trackers' own bookkeeping, per batch and per
 * evaluation (the table of 60,000 samples written).
 *
 *   npm run bench:train-logits
 *
 * Env: BENCH_REPEATS (paired blocks, default 7), BENCH_ENGINES (default wasm,torch; torch is left out
 * with the reason when it is not built), BENCH_TORCH_THREADS (default 2). The machine may be shared:
 * the table gives the best block of each side and the median over paired blocks of their ratio.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetwork, type EngineName, initEngine, type NetworkSpec } from "../src/engine/index.js";
import { torchStatus } from "../src/engine/torch/index.js";
import { writeTrackerTable } from "../src/results/tracker-table.js";
import { OnlineTrackers } from "../src/training/trackers.js";
import { Rng } from "../src/util/rng.js";

const CASES: { model: string; spec: NetworkSpec; batch: number; steps: number }[] = [
  {
    model: "CNN",
    spec: {
      type: "CNN",
      inputShape: [28, 28, 1],
      outputDim: 10,
      params: { channels: [32, 64], hidden: 128, dropout: 0.25 },
    },
    batch: 64,
    steps: 10,
  },
  {
    model: "FFNN",
    spec: { type: "FFNN", inputShape: [64], outputDim: 10, params: { hidden_sizes: [64], dropout: 0.5 } },
    batch: 32,
    steps: 1500,
  },
];

const repeats = Number(process.env.BENCH_REPEATS ?? 7);
const engines = (process.env.BENCH_ENGINES ?? "wasm,torch").split(",") as EngineName[];
const torchThreads = Number(process.env.BENCH_TORCH_THREADS ?? 2);

function data(spec: NetworkSpec, batch: number, seed: number) {
  const rng = new Rng(seed);
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  return {
    x: Float32Array.from({ length: batch * size }, () => rng.normal()),
    y: Int32Array.from({ length: batch }, () => rng.int(spec.outputDim)),
  };
}

const rows: string[][] = [
  [
    "engine",
    "model",
    "batch",
    "ms/step wall / cpu",
    "with logits wall / cpu",
    "overhead (wall)",
    "overhead (cpu)",
  ],
];
for (const engine of engines) {
  if (engine === "torch" && !torchStatus().usable) {
    console.log(`torch left out: ${torchStatus().reason}`);
    continue;
  }
  await initEngine({ engine, threads: engine === "torch" ? torchThreads : null });
  for (const c of CASES) {
    const plain = createNetwork(c.spec, { type: "Adam", learningRate: 1e-3 }, 1);
    const withLogits = createNetwork(c.spec, { type: "Adam", learningRate: 1e-3 }, 1);
    const { x, y } = data(c.spec, c.batch, 2);
    const logits = new Float32Array(c.batch * c.spec.outputDim);
    /** Wall and CPU (user + system, all threads) milliseconds per step of one block. */
    const block = (withOut: boolean): { wall: number; cpu: number } => {
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      for (let s = 0; s < c.steps; s++) {
        if (withOut) withLogits.trainStep(x, c.batch, y, null, null, logits);
        else plain.trainStep(x, c.batch, y);
      }
      const wall = (performance.now() - start) / c.steps;
      const used = process.cpuUsage(cpu0);
      return { wall, cpu: (used.user + used.system) / 1000 / c.steps };
    };
    block(false);
    block(true);
    // Paired blocks in alternating order; the median of the paired ratios resists a load that
    // changes during the run better than the ratio of the two best blocks. CPU time is the steadier
    // figure on a shared machine (waiting for a core is not counted).
    const best = { wall: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY };
    const bestWith = { wall: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY };
    const ratios = { wall: [] as number[], cpu: [] as number[] };
    for (let r = 0; r < repeats; r++) {
      let a: { wall: number; cpu: number };
      let b: { wall: number; cpu: number };
      if (r % 2 === 0) {
        a = block(false);
        b = block(true);
      } else {
        b = block(true);
        a = block(false);
      }
      for (const k of ["wall", "cpu"] as const) {
        best[k] = Math.min(best[k], a[k]);
        bestWith[k] = Math.min(bestWith[k], b[k]);
        ratios[k].push(b[k] / a[k]);
      }
    }
    const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)] as number;
    const pct = (ratio: number) => `${((ratio - 1) * 100).toFixed(1)}%`;
    rows.push([
      engine,
      c.model,
      String(c.batch),
      `${best.wall.toFixed(3)} / ${best.cpu.toFixed(3)}`,
      `${bestWith.wall.toFixed(3)} / ${bestWith.cpu.toFixed(3)}`,
      pct(median(ratios.wall)),
      pct(median(ratios.cpu)),
    ]);
    plain.dispose();
    withLogits.dispose();
  }
}
console.table(rows.slice(1).map((r) => Object.fromEntries(rows[0]?.map((h, i) => [h, r[i]]) ?? [])));

// The trackers' own work: one batch of 64 observed, and one evaluation's table of 60,000 samples.
const n = 60000;
const classes = 10;
const trackers = new OnlineTrackers(n, classes, 0.9);
const rng = new Rng(3);
const batchLogits = Float32Array.from({ length: 64 * classes }, () => rng.normal());
const batchLabels = Int32Array.from({ length: 64 }, () => rng.int(classes));
const batches = 2000;
let start = performance.now();
for (let b = 0; b < batches; b++) {
  const positions = Int32Array.from({ length: 64 }, (_, i) => (b * 64 + i) % n);
  trackers.observe(positions, batchLabels, batchLogits);
}
const perBatch = (performance.now() - start) / batches;
const dir = mkdtempSync(join(tmpdir(), "curricula-bench-trackers-"));
const sourceIndex = Int32Array.from({ length: n }, (_, i) => i);
const labels = Int32Array.from({ length: n }, (_, i) => i % classes);
start = performance.now();
writeTrackerTable(dir, trackers.table(sourceIndex, labels));
const perTable = performance.now() - start;
start = performance.now();
const stateBytes = JSON.stringify(trackers.getState()).length;
const perState = performance.now() - start;
rmSync(dir, { recursive: true, force: true });
console.log(
  `trackers: observe a batch of 64: ${(perBatch * 1000).toFixed(1)} µs; table of ${n} samples written: ` +
    `${perTable.toFixed(0)} ms; checkpoint state: ${(stateBytes / 1e6).toFixed(2)} MB JSON in ${perState.toFixed(0)} ms`,
);
