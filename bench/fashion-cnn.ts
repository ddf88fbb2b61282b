/**
 * Acceptance check of issue 2 too slow for the test suite: the packaged CNN trained on
 * Fashion-MNIST for 2 epochs (Adam, lr 1e-3, batch 64) must reach >= 0.85 test accuracy.
 * Needs the Debian package dataset-fashion-mnist (or FashionMNIST.path pointing at the IDX files).
 *
 *   npm run bench:fashion
 *   (= npx tsc -p bench/tsconfig.json && node node_modules/.cache/curricula-bench/bench/fashion-cnn.js)
 *
 * Env: BENCH_RUN_DIR (run folder; default a fresh temp folder, deleted afterwards),
 * BENCH_EPOCHS (default 2), CURRICULA_BACKEND (wasm|cpu). Exit code 1 when below the threshold.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { trainRun } from "../src/assembly/train-run.js";
import { RunConfigSchema } from "../src/config/schema.js";
import { readYaml } from "../src/util/yaml-io.js";

const THRESHOLD = 0.85;
const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
const configs = join(repo, "configs");

async function main(): Promise<void> {
  const epochs = Number(process.env.BENCH_EPOCHS ?? 2);
  const runDir = process.env.BENCH_RUN_DIR ?? mkdtempSync(join(tmpdir(), "curricula-fashion-cnn-"));
  const config = RunConfigSchema.parse({
    experiment_id: "bench",
    seed: 1,
    batch_size: 64,
    learning_rate: 0.001,
    iterations: epochs,
    progress_bar: true,
    dataset: readYaml(join(configs, "dataset", "FashionMNIST.yaml")),
    model: readYaml(join(configs, "model", "CNN.yaml")),
    optimizer: readYaml(join(configs, "optimizer", "Adam.yaml")),
  });
  const start = process.hrtime.bigint();
  const result = await trainRun(config, { runDir, progress: true });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const timer = readYaml<Record<string, { total_seconds: number }>>(join(runDir, "timer.yaml"));
  const hardware = readYaml<{ engine: { backend: string; simd: boolean } }>(join(runDir, "hardware.yaml"));
  const rows: [string, string][] = [
    ["backend", `${hardware.engine.backend}${hardware.engine.simd ? " (simd)" : ""}`],
    ["epochs", String(epochs)],
    ["best epoch", String(result.bestIteration)],
    ["dev accuracy", (result.best.accuracy ?? Number.NaN).toFixed(4)],
    ["test accuracy", (result.test.accuracy ?? Number.NaN).toFixed(4)],
    ["train seconds", (timer.train?.total_seconds ?? Number.NaN).toFixed(1)],
    ["eval seconds (dev + train outputs)", (timer.dev?.total_seconds ?? Number.NaN).toFixed(1)],
    ["test seconds", (timer.test?.total_seconds ?? Number.NaN).toFixed(1)],
    ["wall seconds", seconds.toFixed(1)],
  ];
  for (const [k, v] of rows) console.log(`${(k as string).padEnd(36)} ${v}`);
  const passed = (result.test.accuracy ?? 0) >= THRESHOLD;
  console.log(`${passed ? "PASS" : "FAIL"}: test accuracy ${passed ? ">=" : "<"} ${THRESHOLD}`);
  if (!process.env.BENCH_RUN_DIR) rmSync(runDir, { recursive: true, force: true });
  process.exitCode = passed ? 0 : 1;
}

await main();
