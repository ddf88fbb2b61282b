/**
 * Training and inference throughput of curricula against PyTorch on the same architectures, batch
 * sizes and optimiser, in one run: the CNN on Fashion-MNIST-shaped data (28x28x1, batch 64) and the
 * FFNN on Digits-shaped data (64 features, batch 32), Adam lr 1e-3, random data.
 *
 *   npm run bench:train
 *   (= npx tsc -p bench/tsconfig.json && node node_modules/.cache/curricula-bench/bench/train.js)
 *
 * Env: BENCH_SECONDS (per measurement, default 6), BENCH_REPEATS (default 3), BENCH_MODELS (default
 * CNN,FFNN), BENCH_ENGINES (curricula engines, default wasm,torch; torch is left out with the reason
 * printed when it is not built), BENCH_TORCH_THREADS (PyTorch's and the torch engine's threads, default 2), BENCH_PYTHON (default python3, then /usr/bin/python3),
 * BENCH_PROFILE=1 (per-kernel time of one training step), CURRICULA_BACKEND (wasm|cpu).
 *
 * The machine may be shared: curricula and PyTorch are measured alternately BENCH_REPEATS times and
 * the best figure of each is kept; the load average and the CPU share each side got (CPU time /
 * wall time; PyTorch can reach 2.0 with 2 threads) are printed so that a loaded run shows as such.
 */
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import {
  createNetwork,
  type EngineInfo,
  type EngineName,
  engineMemory,
  initEngine,
  type NetworkSpec,
} from "../src/engine/index.js";
import { torchStatus } from "../src/engine/torch/index.js";
import { profileKernels } from "../src/engine/wasm/backend.js";
import { Rng } from "../src/util/rng.js";
import { benchScript, torchPython } from "./common.js";

interface Case {
  model: "CNN" | "FFNN";
  spec: NetworkSpec;
  batch: number;
  inferBatch: number;
  lr: number;
}

const CASES: Case[] = [
  {
    model: "CNN",
    spec: {
      type: "CNN",
      inputShape: [28, 28, 1],
      outputDim: 10,
      params: { channels: [32, 64], hidden: 128, dropout: 0.25 },
    },
    batch: 64,
    inferBatch: 256,
    lr: 1e-3,
  },
  {
    model: "FFNN",
    spec: { type: "FFNN", inputShape: [64], outputDim: 10, params: { hidden_sizes: [64], dropout: 0.5 } },
    batch: 32,
    inferBatch: 256,
    lr: 1e-3,
  },
];

interface Measured {
  /** The curricula engine (absent for the PyTorch baseline). */
  engine?: string;
  model: string;
  trainSamplesPerSec: number;
  inferSamplesPerSec: number;
  trainSteps?: number;
  /** CPU time / wall time during the training and the inference measurement. */
  trainCpuShare?: number;
  inferCpuShare?: number;
}

const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const repeats = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));
const wanted = (process.env.BENCH_MODELS ?? "CNN,FFNN").split(",");
const cases = CASES.filter((c) => wanted.includes(c.model));
const torchThreads = Number(process.env.BENCH_TORCH_THREADS ?? 2);

function measure(engine: EngineName, c: Case): Measured {
  const net = createNetwork(c.spec, { type: "Adam", learningRate: c.lr }, 0);
  const size = c.spec.inputShape.reduce((a, b) => a * b, 1);
  const n = 1024;
  const rng = new Rng(1);
  const X = Float32Array.from({ length: n * size }, () => rng.normal());
  const Y = Int32Array.from({ length: n }, () => rng.int(c.spec.outputDim));
  const batchAt = (i: number, b: number) => {
    const s = (i * b) % (n - b + 1);
    return { x: X.subarray(s * size, (s + b) * size), y: Y.subarray(s, s + b) };
  };
  for (let i = 0; i < 5; i++) {
    const { x, y } = batchAt(i, c.batch);
    net.trainStep(x, c.batch, y);
  }
  let steps = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < seconds || steps < 5) {
    const { x, y } = batchAt(steps, c.batch);
    net.trainStep(x, c.batch, y);
    steps++;
    elapsed = (performance.now() - t0) / 1000;
  }
  const trainSamplesPerSec = (steps * c.batch) / elapsed;
  const trainCpuShare = cpuSeconds(c0) / elapsed;
  for (let i = 0; i < 3; i++) net.forward(batchAt(i, c.inferBatch).x, c.inferBatch);
  let k = 0;
  const c1 = process.cpuUsage();
  const t1 = performance.now();
  elapsed = 0;
  while (elapsed < seconds / 2 || k < 5) {
    net.forward(batchAt(k, c.inferBatch).x, c.inferBatch);
    k++;
    elapsed = (performance.now() - t1) / 1000;
  }
  const inferSamplesPerSec = (k * c.inferBatch) / elapsed;
  const inferCpuShare = cpuSeconds(c1) / elapsed;
  net.dispose();
  return {
    engine,
    model: c.model,
    trainSamplesPerSec,
    inferSamplesPerSec,
    trainSteps: steps,
    trainCpuShare,
    inferCpuShare,
  };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

/** Per model, the best throughput of each phase over the repeats (with the CPU share it had). */
function bestOf(runs: Measured[][]): Measured[] {
  const out = new Map<string, Measured>();
  for (const run of runs) {
    for (const m of run) {
      const key = `${m.engine ?? ""}:${m.model}`;
      const b = out.get(key);
      if (!b) {
        out.set(key, { ...m });
        continue;
      }
      if (m.trainSamplesPerSec > b.trainSamplesPerSec) {
        b.trainSamplesPerSec = m.trainSamplesPerSec;
        b.trainCpuShare = m.trainCpuShare;
      }
      if (m.inferSamplesPerSec > b.inferSamplesPerSec) {
        b.inferSamplesPerSec = m.inferSamplesPerSec;
        b.inferCpuShare = m.inferCpuShare;
      }
    }
  }
  return [...out.values()];
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function profile(c: Case): Promise<void> {
  const net = createNetwork(c.spec, { type: "Adam", learningRate: c.lr }, 0);
  const size = c.spec.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(c.batch * size).fill(0.5);
  const y = new Int32Array(c.batch);
  for (let i = 0; i < 3; i++) net.trainStep(x, c.batch, y);
  const t0 = performance.now();
  const kernels = await profileKernels(() => net.trainStep(x, c.batch, y));
  const total = performance.now() - t0;
  console.log(`\n${c.model}: one training step, kernels by time (profiled step took ${total.toFixed(1)} ms)`);
  for (const k of kernels.slice(0, 12)) {
    console.log(
      `  ${k.kernel.padEnd(24)} ${k.ms.toFixed(2).padStart(8)} ms  ${String(k.calls).padStart(4)} calls`,
    );
  }
  net.dispose();
}

function runTorch(): { header: Record<string, unknown> | null; results: Measured[]; error: string | null } {
  const config = {
    seconds,
    threads: torchThreads,
    cases: cases.map((c) => ({
      model: c.model,
      batch: c.batch,
      inferBatch: c.inferBatch,
      inputShape: c.spec.inputShape,
      outputDim: c.spec.outputDim,
      lr: c.lr,
    })),
  };
  const python = torchPython();
  if (!python) return { header: null, results: [], error: "no python imports torch" };
  const out = spawnSync(python, [benchScript("train_torch.py"), JSON.stringify(config)], {
    encoding: "utf8",
  });
  if (out.status !== 0)
    return {
      header: null,
      results: [],
      error: (out.stderr || String(out.error)).trim().split("\n").slice(-3).join(" "),
    };
  const lines = out.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { header: lines[0] ?? null, results: lines.slice(1) as unknown as Measured[], error: null };
}

function describeEngine(info: EngineInfo): string {
  return info.engine === "torch"
    ? `torch (libtorch ${info.version}, ${info.threads} threads)`
    : `wasm (tfjs ${info.version} ${info.backend}${info.simd ? " SIMD" : ""}, 1 thread)`;
}

async function main(): Promise<void> {
  const engines: EngineName[] = [];
  for (const name of (process.env.BENCH_ENGINES ?? "wasm,torch").split(",") as EngineName[]) {
    if (name === "torch" && !torchStatus().usable) {
      console.log(`torch engine left out: ${torchStatus().reason}`);
      continue;
    }
    engines.push(name);
  }
  const infos: string[] = [];
  for (const engine of engines) {
    infos.push(
      describeEngine(await initEngine({ engine, threads: engine === "torch" ? torchThreads : null })),
    );
  }
  console.log(`curricula engines: ${infos.join("; ")}; ${seconds} s per measurement, best of ${repeats}`);
  console.log(`load average before: ${load()}`);
  const oursRuns: Measured[][] = [];
  const torchRuns: Measured[][] = [];
  let torch: ReturnType<typeof runTorch> = { header: null, results: [], error: null };
  for (let r = 0; r < repeats; r++) {
    for (const engine of engines) {
      await initEngine({ engine, threads: engine === "torch" ? torchThreads : null });
      oursRuns.push(cases.map((c) => measure(engine, c)));
    }
    torch = runTorch();
    if (torch.error) break;
    torchRuns.push(torch.results);
  }
  const ours = bestOf(oursRuns);
  const theirs = bestOf(torchRuns);
  console.log(`load average after: ${load()}`);
  await initEngine({ engine: "wasm" });
  console.log(`tensors alive after the runs (wasm): ${engineMemory().tensors}`);
  if (torch.header) console.log(`baseline: ${torch.header.engine}, ${torch.header.threads} threads`);
  if (torch.error) console.log(`PyTorch baseline failed (apt-get install -y python3-torch): ${torch.error}`);
  const share = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(2));
  const rows: string[][] = [
    [
      "engine",
      "model",
      "phase",
      "curricula samples/s",
      "PyTorch samples/s",
      "curricula/PyTorch",
      "CPU share ours/torch",
    ],
  ];
  for (const m of ours) {
    const t = theirs.find((r) => r.model === m.model);
    for (const [phase, key, cpu] of [
      ["train", "trainSamplesPerSec", "trainCpuShare"],
      ["inference", "inferSamplesPerSec", "inferCpuShare"],
    ] as const) {
      const a = m[key];
      const b = t?.[key];
      rows.push([
        m.engine ?? "",
        m.model,
        phase,
        a.toFixed(0),
        b ? b.toFixed(0) : "-",
        b ? (a / b).toFixed(2) : "-",
        `${share(m[cpu])}/${share(t?.[cpu])}`,
      ]);
    }
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length))) ?? [];
  console.log("");
  for (const r of rows)
    console.log(
      r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "),
    );
  // Per-kernel profiles are tfjs' (the wasm engine).
  if (process.env.BENCH_PROFILE === "1") {
    await initEngine({ engine: "wasm" });
    for (const c of cases) await profile(c);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
