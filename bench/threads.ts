/**
 * Threads of the torch engine under load: Fashion-MNIST CNN training (the packaged CNN, Adam
 * lr 1e-3, batch 64, one pass over the first BENCH_SAMPLES training images) on torch with threads 1,
 * 2 and auto, on the machine as it is ("idle") and with one competing CPU-bound process per core
 * (`yes > /dev/null`), and on wasm for reference. Each setting runs in a fresh process (libtorch's
 * pools are sized once per process), so auto sees the load as a new run would.
 *
 *   npm run bench:threads
 *   (= npx tsc -p bench/tsconfig.json && node node_modules/.cache/curricula-bench/bench/threads.js)
 *
 * Env: BENCH_SAMPLES (default 10000), BENCH_SETTINGS (default 1,2,auto,wasm), BENCH_LOADS (default
 * idle,busy). Needs the torch engine built and Debian's dataset-fashion-mnist (or
 * FASHION_MNIST_PATH). The load average is printed with each row: on a shared machine "idle" is
 * not idle, and the table says so.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";

interface Row {
  setting: string;
  load: string;
  seconds: number;
  threads: string;
  loadAverage: number;
}

const SELF = fileURLToPath(import.meta.url);

/** One measurement in this process: trains one pass and prints a JSON line. */
async function child(setting: string, samples: number): Promise<void> {
  const { createDataset, FASHION_MNIST_DEFAULT_PATH } = await import("../src/data/index.js");
  const engine = await import("../src/engine/index.js");
  const info =
    setting === "wasm"
      ? await engine.initEngine({ engine: "wasm" })
      : await engine.initEngine({ engine: "torch", threads: setting === "auto" ? "auto" : Number(setting) });
  const dataset = await createDataset({
    id: "FashionMNIST",
    type: "FashionMNIST",
    path: process.env.FASHION_MNIST_PATH ?? FASHION_MNIST_DEFAULT_PATH,
    dev_split: 0.1,
    split_seed: 1,
  } as never);
  const train = dataset.subset("train");
  const n = Math.min(samples, train.size);
  const net = engine.createNetwork(
    {
      type: "CNN",
      inputShape: [...dataset.featureShape],
      outputDim: dataset.outputDim,
      params: { channels: [32, 64], hidden: 128, dropout: 0.25 },
    },
    { type: "Adam", learningRate: 1e-3 },
    1,
  );
  const start = process.hrtime.bigint();
  for (let b = 0; b < n; b += 64) {
    const positions = Array.from({ length: Math.min(64, n - b) }, (_, i) => b + i);
    const batch = train.batch(positions);
    net.trainStep(batch.x, positions.length, batch.y);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const threads =
    setting === "wasm" ? "1" : `${info.threads}${info.threadPlan ? ` (${info.threadPlan.reason})` : ""}`;
  console.log(JSON.stringify({ seconds, threads }));
}

function competitors(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn("yes", [], { stdio: ["ignore", "ignore", "ignore"] }));
}

async function main(): Promise<void> {
  const samples = Number(process.env.BENCH_SAMPLES ?? 10000);
  const settings = (process.env.BENCH_SETTINGS ?? "1,2,auto,wasm").split(",");
  const loads = (process.env.BENCH_LOADS ?? "idle,busy").split(",");
  const cores = availableParallelism();
  const rows: Row[] = [];
  for (const load of loads) {
    const busy = load === "busy" ? competitors(cores) : [];
    try {
      for (const setting of settings) {
        const loadAverage = loadavg()[0] ?? 0;
        const run = spawnSync(process.execPath, [SELF, "--child", setting, String(samples)], {
          encoding: "utf8",
          env: process.env,
        });
        if (run.status !== 0) throw new Error(`${setting} (${load}) failed:\n${run.stderr}`);
        const result = JSON.parse(run.stdout.trim().split("\n").at(-1) as string);
        rows.push({ setting, load, seconds: result.seconds, threads: result.threads, loadAverage });
        console.error(`${load} ${setting}: ${result.seconds.toFixed(1)} s`);
      }
    } finally {
      for (const p of busy) p.kill();
    }
  }
  console.log(
    `\nFashion-MNIST CNN training, ${samples} images, batch 64, ${cores} cores; busy = one 'yes' per core\n`,
  );
  console.log("| load | setting | seconds | load average at start | threads chosen |");
  console.log("|---|---|---:|---:|---|");
  for (const r of rows) {
    console.log(
      `| ${r.load} | ${r.setting === "wasm" ? "wasm" : `torch threads=${r.setting}`} | ${r.seconds.toFixed(1)} | ${r.loadAverage.toFixed(1)} | ${r.threads} |`,
    );
  }
  for (const load of loads) {
    const torchRows = rows.filter((r) => r.load === load && r.setting !== "wasm");
    const auto = torchRows.find((r) => r.setting === "auto");
    if (!auto || torchRows.length < 2) continue;
    const best = Math.min(...torchRows.map((r) => r.seconds));
    console.log(
      `${load}: auto at ${((auto.seconds / best - 1) * 100).toFixed(0)}% over the best torch setting`,
    );
  }
}

if (process.argv[2] === "--child") {
  await child(process.argv[3] as string, Number(process.argv[4]));
} else {
  await main();
}
