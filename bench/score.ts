/**
 * PredictionDepth's k-NN probe (src/scoring/math/knn/) on N × D float32 embeddings: the engine path
 * (tiled float32 products by the tensor engine, exact re-ranking; PredictionDepth's default) and the
 * exact JS path, against a plain nested-loop baseline and numpy / PyTorch brute force, in one run;
 * last, the engine path on worker threads over every core (knnPredictParallel, as PredictionDepth
 * runs it; the worker module is compiled with the bench).
 * Each method runs in its own process so peak memory (max RSS) is its own. Agreement is measured
 * against the exact JS path (the reference semantics: ties in distance keep the lower index).
 *
 *   npm run bench:score
 *   (= npx tsc -p bench/tsconfig.json && node node_modules/.cache/curricula-bench/bench/score.js)
 *
 * Env: BENCH_N (10000), BENCH_D (512), BENCH_K (30), BENCH_BASELINE_QUERIES (1000: the nested-loop
 * baseline scores this many queries and is extrapolated to N), BENCH_TORCH_THREADS (1, as curricula
 * uses one core), BENCH_PYTHON (else python3 or /usr/bin/python3, the first that imports torch).
 * The machine may be shared: numbers are noisy, compare ratios.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { engineInfo, initEngine, matMulTransposed, matrixPrimitive } from "../src/engine/index.js";
import { type KnnStats, knnPredict, knnPredictParallel } from "../src/scoring/math/knn/index.js";
import { loadNpy, saveNpy } from "../src/util/npy.js";
import { Rng } from "../src/util/rng.js";
import { benchScript, loadAverage, torchPython } from "./common.js";

const env = (key: string, fallback: number) => Number(process.env[key] ?? fallback);
const N = env("BENCH_N", 10_000);
const D = env("BENCH_D", 512);
const K = env("BENCH_K", 30);
const BASELINE_QUERIES = Math.min(N, env("BENCH_BASELINE_QUERIES", 1000));
const CLASSES = 10;

interface Measurement {
  seconds: number;
  maxRssMb: number;
  extrapolated?: boolean;
  agreement?: number;
  error?: string;
  note?: string;
}

/** Clustered embeddings: class means plus noise, so neighbours are informative. */
function makeData(dir: string): void {
  const rng = new Rng(1);
  const means = Float32Array.from({ length: CLASSES * D }, () => rng.normal() * 0.3);
  const labels = Int32Array.from({ length: N }, () => rng.int(CLASSES));
  const x = new Float32Array(N * D);
  for (let i = 0; i < N; i++) {
    const c = labels[i] as number;
    for (let d = 0; d < D; d++) x[i * D + d] = (means[c * D + d] as number) + rng.normal();
  }
  saveNpy(join(dir, "x.npy"), x, [N, D]);
  saveNpy(join(dir, "y.npy"), labels, [N]);
}

/** The plain baseline: every distance by a nested loop, a full sort per query, then the vote. */
function naiveKnn(x: Float32Array, y: Int32Array, queries: number): Int32Array {
  const out = new Int32Array(queries);
  const dist = new Float64Array(N);
  const order = new Array<number>(N);
  for (let q = 0; q < queries; q++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) {
        const diff = (x[q * D + d] as number) - (x[j * D + d] as number);
        s += diff * diff;
      }
      dist[j] = s;
      order[j] = j;
    }
    order.sort((a, b) => (dist[a] as number) - (dist[b] as number) || a - b);
    const votes = new Int32Array(CLASSES);
    for (let t = 0; t < K; t++) {
      const label = y[order[t] as number] as number;
      votes[label] = (votes[label] as number) + 1;
    }
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if ((votes[c] as number) > (votes[best] as number)) best = c;
    out[q] = best;
  }
  return out;
}

/** Child mode: run one JS method and print its measurement. */
async function child(method: string, dir: string): Promise<void> {
  const x = loadNpy(join(dir, "x.npy")).data as Float32Array;
  const y = loadNpy(join(dir, "y.npy")).data as Int32Array;
  let note: string | undefined;
  if (method === "engine" || method === "threads") {
    const initStart = performance.now();
    const info = await initEngine();
    note = `${info.backend}${info.simd ? " SIMD" : ""}, init ${((performance.now() - initStart) / 1000).toFixed(2)} s`;
  }
  const stats: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
  const start = performance.now();
  const queries = method === "naive" ? BASELINE_QUERIES : N;
  const pred =
    method === "naive"
      ? naiveKnn(x, y, queries)
      : method === "threads"
        ? await knnPredictParallel(x, y, x, D, {
            k: K,
            numClasses: CLASSES,
            matrix: matrixPrimitive(),
            stats,
          })
        : knnPredict(x, y, x, D, {
            k: K,
            numClasses: CLASSES,
            ...(method === "engine" ? { dot: matMulTransposed, stats } : {}),
          });
  const seconds = ((performance.now() - start) / 1000) * (N / queries);
  if ((method === "engine" || method === "threads") && engineInfo()) {
    note += `; ${stats.tiles} tiles, ${(stats.rescored / N).toFixed(1)} re-ranked/query, ${stats.overflows} overflows`;
  }
  saveNpy(join(dir, `pred_${method}.npy`), pred, [pred.length]);
  process.stdout.write(`${JSON.stringify({ seconds, max_rss_kb: process.resourceUsage().maxRSS, note })}\n`);
}

function runChild(command: string, args: string[], threads = "1"): Measurement {
  const limits = { OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, MKL_NUM_THREADS: threads };
  const out = spawnSync(command, args, {
    encoding: "utf8",
    maxBuffer: 1 << 24,
    env: { ...process.env, ...limits },
  });
  if (out.status !== 0)
    return {
      seconds: Number.NaN,
      maxRssMb: Number.NaN,
      error: (out.stderr || out.error?.message || "failed").trim().split("\n").pop(),
    };
  const last = JSON.parse(out.stdout.trim().split("\n").pop() as string) as {
    seconds: number;
    max_rss_kb: number;
    note?: string;
  };
  return {
    seconds: last.seconds,
    maxRssMb: last.max_rss_kb / 1024,
    ...(last.note === undefined ? {} : { note: last.note }),
  };
}

function agreement(dir: string, method: string): number {
  const ref = loadNpy(join(dir, "pred_blocked.npy")).data; // the exact JS path
  const other = loadNpy(join(dir, `pred_${method}.npy`)).data;
  let same = 0;
  for (let i = 0; i < other.length; i++) if (other[i] === ref[i]) same++;
  return same / other.length;
}

async function main(): Promise<void> {
  const [, self, mode, method, dir] = process.argv;
  if (mode === "--child") {
    await child(method as string, dir as string);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), "curricula-bench-knn-"));
  makeData(work);
  const python = torchPython() ?? "python3";
  const pyScript = benchScript("knn_baseline.py");
  const threads = String(env("BENCH_TORCH_THREADS", 1));
  console.log(
    `k-NN probe: N=${N} D=${D} k=${K}, ${CLASSES} classes, embeddings ${((N * D * 4) / 2 ** 20).toFixed(1)} MB float32`,
  );
  console.log(`load before: ${loadAverage()}`);
  const results: Record<string, Measurement> = {};
  results["curricula engine (tiled matmul + exact re-rank)"] = runChild(process.execPath, [
    self as string,
    "--child",
    "engine",
    work,
  ]);
  results["curricula JS (exact, blocked)"] = runChild(process.execPath, [
    self as string,
    "--child",
    "blocked",
    work,
  ]);
  const naive = runChild(process.execPath, [self as string, "--child", "naive", work]);
  results[`nested loop (JS, ${BASELINE_QUERIES} queries, ×${N / BASELINE_QUERIES})`] = {
    ...naive,
    extrapolated: BASELINE_QUERIES < N,
  };
  for (const m of ["numpy", "torch"]) {
    results[`${m} brute force (${threads} thread${threads === "1" ? "" : "s"})`] = runChild(
      python,
      [
        pyScript,
        join(work, "x.npy"),
        join(work, "y.npy"),
        String(K),
        m,
        threads,
        join(work, `pred_${m}.npy`),
      ],
      threads,
    );
  }
  results[`curricula engine, ${availableParallelism()} worker threads`] = runChild(process.execPath, [
    self as string,
    "--child",
    "threads",
    work,
  ]);
  const names = Object.keys(results);
  const ref = results[names[0] as string] as Measurement;
  const methods = ["engine", "blocked", "naive", "numpy", "torch", "threads"];
  console.log(
    `${"method".padEnd(48)} ${"time [s]".padStart(9)} ${"peak RSS [MB]".padStart(14)} ${"÷ engine".padStart(9)} ${"÷ JS".padStart(7)} ${"agree".padStart(7)}`,
  );
  names.forEach((name, i) => {
    const r = results[name] as Measurement;
    // The extrapolated baseline is compared on the queries it answered.
    const agree = r.error ? Number.NaN : agreement(work, methods[i] as string);
    const ratio = r.seconds / ref.seconds;
    const ratioJs = r.seconds / (results[names[1] as string] as Measurement).seconds;
    console.log(
      `${name.padEnd(48)} ${r.seconds.toFixed(2).padStart(9)} ${r.maxRssMb.toFixed(0).padStart(14)} ${ratio.toFixed(2).padStart(9)} ${ratioJs.toFixed(2).padStart(7)} ${(Number.isNaN(agree) ? "-" : `${(agree * 100).toFixed(1)}%`).padStart(7)}${r.error ? `  (${r.error})` : ""}${r.note ? `  (${r.note})` : ""}`,
    );
  });
  console.log(`load after: ${loadAverage()}`);
}

await main();
