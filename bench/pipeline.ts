/**
 * The Fashion-MNIST pipeline end to end, in curricula and in PyTorch (bench/pipeline_torch.py, doing
 * the same work with aucurriculum's algorithms), in one run, every stage side by side: the packaged
 * CNN trained for 2 epochs (Adam, lr 1e-3, batch 64, dev and train outputs evaluated every epoch,
 * test at the end), then CELoss, CumulativeAccuracy, FirstIteration and PredictionDepth (probes:
 * input, conv0, conv1, linear0, linear1, output; max_embedding_size 512, k = 30) on the training
 * images. Both sides train and score the same samples: the split (dev_split 1/6, so 50,000 training
 * images of the 60,000) is handed to the PyTorch script as row indices. curricula runs first, then
 * PyTorch, so they never compete for the cores.
 *
 *   npm run bench:pipeline -- [--samples N] [--engine wasm|torch] [--epochs E] [--threads T]
 *                            [--torch-threads T] [--work DIR] [--device D] [--torch-device D]
 *                            [--check-logits]
 *   (= npx tsc -p bench/tsconfig.json && node node_modules/.cache/curricula-bench/bench/pipeline.js)
 *
 * --samples: training images (default 50000; e.g. 10000 for a quick check), --engine: curricula's
 * engine (default wasm), --threads: k-NN threads (default every core), --torch-threads: PyTorch's
 * threads (default every core), --work: keep the run folders there (default a temp folder, deleted),
 * --device: curricula's device with --engine torch (cpu, cuda, cuda:N; default cpu), --torch-device:
 * the PyTorch side's device (default: --device), --check-logits: PyTorch loads curricula's best
 * model.safetensors into the documented nn.Module (docs/engine.md) on the PyTorch side's device and
 * reproduces the dev logits curricula saved (a failure makes the exit code 1).
 * Needs Debian's dataset-fashion-mnist and python3-torch (BENCH_PYTHON picks the python).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildForRun, trainRun } from "../src/assembly/train-run.js";
import { RunConfigSchema } from "../src/config/schema.js";
import { FASHION_MNIST_DEFAULT_PATH } from "../src/data/index.js";
import { engineInfo, initEngine } from "../src/engine/index.js";
import { score } from "../src/scoring/index.js";
import { saveNpy } from "../src/util/npy.js";
import { readYaml } from "../src/util/yaml-io.js";
import { benchScript, loadAverage, torchPython } from "./common.js";

const FULL_TRAIN_FILE = 60_000;
const DEV_SHARE = 1 / 6;
const K = 30;
const MAX_EMBEDDING = 512;
const PROBES = ["conv[0-9]+", "linear[0-9]+"];
const SCORES = ["CELoss", "CumulativeAccuracy", "FirstIteration", "PredictionDepth"] as const;

interface Options {
  samples: number;
  engine: "wasm" | "torch";
  epochs: number;
  threads: number;
  torchThreads: number;
  work: string | null;
  device: string;
  torchDevice: string | null;
  checkLogits: boolean;
}

function usage(message: string): never {
  console.error(`bench/pipeline: ${message}`);
  console.error(
    "usage: npm run bench:pipeline -- [--samples N] [--engine wasm|torch] [--epochs E] [--threads T] [--torch-threads T] [--work DIR] [--device D] [--torch-device D] [--check-logits]",
  );
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const cores = availableParallelism();
  const options: Options = {
    samples: 50_000,
    engine: "wasm",
    epochs: 2,
    threads: cores,
    torchThreads: cores,
    work: null,
    device: "cpu",
    torchDevice: null,
    checkLogits: false,
  };
  const device = (flag: string, value: string | undefined) => {
    if (!value || !/^(cpu|cuda(:[0-9]+)?)$/.test(value))
      usage(`${flag} expects cpu, cuda or cuda:N, got '${value}'`);
    return value;
  };
  const positive = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) usage(`${flag} expects a positive integer, got '${value}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === "--check-logits") {
      options.checkLogits = true;
      continue;
    }
    const value = argv[i + 1];
    i++;
    if (flag === "--samples") options.samples = positive(flag, value);
    else if (flag === "--epochs") options.epochs = positive(flag, value);
    else if (flag === "--threads") options.threads = positive(flag, value);
    else if (flag === "--torch-threads") options.torchThreads = positive(flag, value);
    else if (flag === "--work") options.work = value ?? usage("--work expects a folder");
    else if (flag === "--device") options.device = device(flag, value);
    else if (flag === "--torch-device") options.torchDevice = device(flag, value);
    else if (flag === "--engine") {
      if (value !== "wasm" && value !== "torch") usage(`--engine expects wasm or torch, got '${value}'`);
      options.engine = value;
    } else usage(`unknown option '${flag}'`);
  }
  if (options.device !== "cpu" && options.engine !== "torch") usage("--device needs --engine torch");
  const limit = Math.round(options.samples / (1 - DEV_SHARE));
  if (limit > FULL_TRAIN_FILE)
    usage(`--samples at most ${FULL_TRAIN_FILE * (1 - DEV_SHARE)} (the training file holds 60,000 images)`);
  return options;
}

/** Starts curricula's engine; a torch engine that is not built or does not load is a clear error. */
async function startEngine(name: Options["engine"], device: string): Promise<string> {
  try {
    const info = await initEngine(name === "torch" ? { engine: name, device } : { engine: name });
    return name === "torch"
      ? `torch (libtorch ${info.version}, ${info.threads ?? "?"} threads, ${info.device ?? "cpu"})`
      : `wasm${info.simd ? " SIMD" : ""} (tfjs ${info.version})`;
  } catch (error) {
    console.error(`bench/pipeline: --engine ${name} is not available: ${(error as Error).message}`);
    console.error("Use --engine wasm, or build the torch engine with 'npm run build:torch'.");
    process.exit(1);
  }
}

/**
 * Seconds per stage: `training`, each score, and PredictionDepth's `forward` and `knn` phases (wall
 * clock only); `cpu` is the process's CPU time over the same stages (all its threads), which shows
 * how much of the machine each side got when it is shared.
 */
interface Side {
  wall: Record<string, number>;
  cpu: Record<string, number>;
  devAccuracy: number;
  testAccuracy: number;
}

const cpuSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

async function runCurricula(
  options: Options,
  work: string,
): Promise<Side & { trainSize: number; dataPath: string }> {
  const resultsDir = join(work, "results");
  const runName = "fashion_cnn";
  const runDir = join(resultsDir, "bench", "training", runName);
  mkdirSync(dirname(runDir), { recursive: true });
  const configs = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "configs");
  const limit = Math.round(options.samples / (1 - DEV_SHARE));
  const config = RunConfigSchema.parse({
    results_dir: resultsDir,
    experiment_id: "bench",
    seed: 1,
    batch_size: 64,
    learning_rate: 0.001,
    iterations: options.epochs,
    progress_bar: false,
    engine: options.engine,
    ...(options.engine === "torch" ? { device: options.device } : {}),
    dataset: {
      ...readYaml<Record<string, unknown>>(join(configs, "dataset", "FashionMNIST.yaml")),
      dev_split: DEV_SHARE,
      ...(limit < FULL_TRAIN_FILE ? { limit } : {}),
    },
    model: readYaml(join(configs, "model", "CNN.yaml")),
    optimizer: readYaml(join(configs, "optimizer", "Adam.yaml")),
  });
  const { dataset } = await buildForRun(config);
  // The split for the PyTorch side: positions in the IDX files.
  for (const subset of ["train", "dev", "test"] as const) {
    const index = dataset.subset(subset).sourceIndex;
    saveNpy(join(work, `${subset}_index.npy`), index, [index.length]);
  }
  const trainSize = dataset.subset("train").size;
  if (options.checkLogits) {
    // The dev images as the trainer fed them, for PyTorch to reproduce the saved dev logits.
    const dev = dataset.subset("dev");
    const positions = Int32Array.from({ length: dev.size }, (_, i) => i);
    saveNpy(join(work, "dev_x.npy"), dev.batch(positions).x, [dev.size, ...dataset.featureShape]);
  }
  console.log(`curricula: training the CNN on ${trainSize} images for ${options.epochs} epochs`);
  const wall: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const result = await trainRun(config, { runDir, progress: false });
  wall.training = (performance.now() - t0) / 1000;
  cpu.training = cpuSince(c0);
  for (const name of SCORES) {
    console.log(`curricula: ${name}`);
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    await score({
      cwd: work,
      // The compiled bench lives under node_modules/.cache: the repository's configs are named here.
      configPath: configs,
      log: () => {},
      overrides: [
        `results_dir=${resultsDir}`,
        "experiment_id=bench",
        "progress_bar=false",
        "plots=false",
        "correlation=null",
        `curriculum/scoring=${name}`,
        `curriculum.scoring.run_name=${runName}`,
        ...(name === "PredictionDepth"
          ? [
              `curriculum.scoring.probe_placements=[${PROBES.join(",")}]`,
              `curriculum.scoring.max_embedding_size=${MAX_EMBEDDING}`,
              `curriculum.scoring.knn_n_neighbors=${K}`,
              `curriculum.scoring.knn_threads=${options.threads}`,
            ]
          : []),
      ],
    });
    wall[name] = (performance.now() - start) / 1000;
    cpu[name] = cpuSince(cpuStart);
  }
  const depthDir = join(resultsDir, "bench", "curriculum", "PredictionDepth");
  const atomic =
    readdirSync(depthDir, { withFileTypes: true }).find((e) => e.isDirectory() && !e.name.startsWith(".")) ??
    usage("no PredictionDepth run");
  const timer = readYaml<Record<string, number>>(join(depthDir, atomic.name, "timer.yaml"));
  return {
    trainSize,
    dataPath: String(config.dataset.path ?? FASHION_MNIST_DEFAULT_PATH),
    wall: { ...wall, forward: timer.model_forward ?? Number.NaN, knn: timer.knn_fit ?? Number.NaN },
    cpu,
    devAccuracy: result.best.accuracy ?? Number.NaN,
    testAccuracy: result.test.accuracy ?? Number.NaN,
  };
}

function runTorch(options: Options, work: string, dataPath: string): Side | { error: string } {
  const python = torchPython();
  if (!python)
    return { error: "no python with torch (apt-get install -y python3-torch, or set BENCH_PYTHON)" };
  const config = {
    data: dataPath,
    work,
    epochs: options.epochs,
    batch_size: 64,
    inference_batch_size: 256,
    learning_rate: 0.001,
    threads: options.torchThreads,
    device: options.torchDevice ?? options.device,
    seed: 1,
    k: K,
    max_embedding_size: MAX_EMBEDDING,
  };
  console.log(`PyTorch: the same pipeline (${options.torchThreads} threads, device ${config.device})`);
  const out = spawnSync(python, [benchScript("pipeline_torch.py"), JSON.stringify(config)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 24,
  });
  if (out.status !== 0) return { error: `pipeline_torch.py exited with ${out.status ?? out.signal}` };
  const last = JSON.parse(out.stdout.trim().split("\n").pop() as string) as {
    wall: Record<string, number>;
    cpu: Record<string, number>;
    dev_accuracy: number;
    test_accuracy: number;
  };
  return { wall: last.wall, cpu: last.cpu, devAccuracy: last.dev_accuracy, testAccuracy: last.test_accuracy };
}

/**
 * PyTorch loads curricula's best checkpoint into the documented nn.Module on `device` and computes
 * the dev logits; the largest absolute difference from the logits curricula saved. On CUDA both
 * sides may use TF32 convolutions (cuDNN's default), so the bound there is 1e-3 instead of 1e-4.
 */
function checkLogits(work: string, device: string): { diff: number; bound: number } | { error: string } {
  const python = torchPython();
  if (!python) return { error: "no python with torch" };
  const runDir = join(work, "results", "bench", "training", "fashion_cnn", "_best");
  const out = spawnSync(
    python,
    [
      benchScript("check_logits.py"),
      join(dirname(benchScript("check_logits.py")), "..", "docs", "engine.md"),
      join(runDir, "model.safetensors"),
      join(work, "dev_x.npy"),
      join(runDir, "dev_indices.npy"),
      join(runDir, "dev_outputs.npy"),
      device,
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  if (out.status !== 0) return { error: `check_logits.py exited with ${out.status ?? out.signal}` };
  const diff = Number(out.stdout.trim().split("\n").pop());
  return { diff, bound: device.startsWith("cuda") ? 1e-3 : 1e-4 };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const engine = await startEngine(options.engine, options.device);
  const work = options.work ?? mkdtempSync(join(tmpdir(), "curricula-bench-pipeline-"));
  mkdirSync(work, { recursive: true });
  console.log(`engine: ${engine}; k-NN threads ${options.threads}; load before: ${loadAverage()}`);
  const ours = await runCurricula(options, work);
  const backend = engineInfo()?.backend;
  const theirs = runTorch(options, work, ours.dataPath);
  console.log(`load after: ${loadAverage()}`);
  const stages = ["training", ...SCORES];
  const sum = (r: Record<string, number>) => stages.reduce((acc, name) => acc + (r[name] ?? Number.NaN), 0);
  const t = "error" in theirs ? null : theirs;
  const rows: [string, string][] = [
    ["training", `training, ${options.epochs} epochs incl. evaluations`],
    ["CELoss", "CELoss"],
    ["CumulativeAccuracy", "CumulativeAccuracy"],
    ["FirstIteration", "FirstIteration"],
    ["forward", "PredictionDepth: forward (probes, pooling)"],
    ["knn", "PredictionDepth: k-NN (6 probes)"],
    ["PredictionDepth", "PredictionDepth (all)"],
  ];
  console.log(
    `\nFashion-MNIST pipeline, ${ours.trainSize} training images; curricula on ${engine} (${backend}), PyTorch ${options.torchThreads} threads`,
  );
  const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "-" : v.toFixed(1));
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || Number.isNaN(a / b) ? "-" : (a / b).toFixed(2);
  console.log(
    `${"stage".padEnd(46)} ${"curricula [s]".padStart(14)} ${"PyTorch [s]".padStart(12)} ${"ratio".padStart(7)}   ${"CPU s curricula".padStart(15)} ${"CPU s PyTorch".padStart(14)}`,
  );
  const line = (label: string, a: number | undefined, b: number | undefined, ca?: number, cb?: number) =>
    console.log(
      `${label.padEnd(46)} ${num(a).padStart(14)} ${num(b).padStart(12)} ${ratio(a, b).padStart(7)}   ${num(ca).padStart(15)} ${num(cb).padStart(14)}`,
    );
  for (const [key, label] of rows) line(label, ours.wall[key], t?.wall[key], ours.cpu[key], t?.cpu[key]);
  line(
    "whole pipeline",
    sum(ours.wall),
    t ? sum(t.wall) : undefined,
    sum(ours.cpu),
    t ? sum(t.cpu) : undefined,
  );
  console.log(
    `accuracy dev/test: curricula ${ours.devAccuracy.toFixed(4)}/${ours.testAccuracy.toFixed(4)}, PyTorch ${t ? `${t.devAccuracy.toFixed(4)}/${t.testAccuracy.toFixed(4)}` : "-"}`,
  );
  if ("error" in theirs) console.log(`PyTorch side failed: ${theirs.error}`);
  let logitsFailed = false;
  if (options.checkLogits) {
    const device = options.torchDevice ?? options.device;
    const check = checkLogits(work, device);
    if ("error" in check) {
      logitsFailed = true;
      console.log(`logits check failed: ${check.error}`);
    } else {
      logitsFailed = !(check.diff <= check.bound);
      console.log(
        `logits check: PyTorch (${device}) reproduces curricula's best dev logits within ${check.diff.toExponential(2)} (bound ${check.bound}): ${logitsFailed ? "FAILED" : "ok"}`,
      );
    }
  }
  if (!options.work) rmSync(work, { recursive: true, force: true });
  process.exitCode = "error" in theirs || logitsFailed ? 1 : 0;
}

await main();
