/**
 * Your own images at scale, against torchvision in the same run (Debian's python3-torchvision):
 *   (a) decoding and caching a folder of Fashion-MNIST training images, exported by this script as
 *       28×28 PNG class folders and once more as 64×64 RGB JPEG, against one pass of torchvision's
 *       ImageFolder + DataLoader(num_workers=2) with ToTensor over the same folder;
 *   (b) one training epoch of the packaged CNN with CropFlip on the PNG folder (curricula's engine,
 *       default torch when built) against the same epoch in PyTorch (RandomCrop(28, padding=4),
 *       RandomHorizontalFlip, DataLoader(num_workers=2), batch 64, Adam);
 *   (c) peak resident memory of a training process on a generated cache of at least --rss-gb GB
 *       (64×64 RGB images, read a batch at a time), which must stay under 1.5 GB.
 * Throughputs are images per second; ratios are curricula's over PyTorch's (above 1: faster).
 *
 *   npm run bench:images -- [--samples N] [--engine wasm|torch] [--threads T] [--rss-gb G]
 *                          [--skip a,b,c] [--work DIR]
 *
 * Needs Debian's dataset-fashion-mnist and python3-torchvision (BENCH_PYTHON picks the python).
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { trainRun } from "../src/assembly/train-run.js";
import { RunConfigSchema } from "../src/config/schema.js";
import { writeCacheKey } from "../src/data/feature-cache.js";
import { readIdxFile } from "../src/data/idx.js";
import { imageFolderSettings } from "../src/data/image-folder.js";
import { FASHION_MNIST_DEFAULT_PATH, preprocessDataset } from "../src/data/index.js";
import { torchStatus } from "../src/engine/torch/index.js";
import { encodeNpy, npyHeader } from "../src/util/npy.js";
import { readYaml } from "../src/util/yaml-io.js";
import { benchScript, loadAverage, torchPython } from "./common.js";

interface Options {
  samples: number;
  engine: "wasm" | "torch";
  threads: number;
  rssGb: number;
  skip: Set<string>;
  work: string | null;
}

function usage(message: string): never {
  console.error(`bench/images: ${message}`);
  console.error(
    "usage: npm run bench:images -- [--samples N] [--engine wasm|torch] [--threads T] [--rss-gb G] [--skip a,b,c] [--work DIR]",
  );
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    samples: 50_000,
    engine: torchStatus().usable ? "torch" : "wasm",
    threads: availableParallelism(),
    rssGb: 4,
    skip: new Set(),
    work: null,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    const number = () => {
      const n = Number(value);
      if (!(n > 0)) usage(`${flag} expects a positive number, got '${value}'`);
      return n;
    };
    if (flag === "--samples") options.samples = Math.min(60_000, Math.round(number()));
    else if (flag === "--threads") options.threads = Math.round(number());
    else if (flag === "--rss-gb") options.rssGb = number();
    else if (flag === "--work") options.work = value ?? usage("--work expects a folder");
    else if (flag === "--skip") options.skip = new Set((value ?? "").split(","));
    else if (flag === "--engine") {
      if (value !== "wasm" && value !== "torch") usage(`--engine expects wasm or torch, got '${value}'`);
      options.engine = value;
    } else usage(`unknown option '${flag}'`);
  }
  return options;
}

function torchSide(python: string, config: Record<string, unknown>): { seconds: number; images: number } {
  const out = spawnSync(python, [benchScript("images_torch.py"), JSON.stringify(config)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (out.status !== 0) usage(`images_torch.py exited with ${out.status ?? out.signal}`);
  return JSON.parse(out.stdout.trim().split("\n").pop() as string);
}

/** Writes the first `n` Fashion-MNIST training images as 28×28 grey PNG and 64×64 RGB JPEG class folders. */
async function exportFolders(n: number, work: string): Promise<{ png: string; jpeg: string }> {
  const images = readIdxFile(join(FASHION_MNIST_DEFAULT_PATH, "train-images-idx3-ubyte.gz"), {
    expectDims: 3,
    limit: n,
  });
  const labels = readIdxFile(join(FASHION_MNIST_DEFAULT_PATH, "train-labels-idx1-ubyte.gz"), {
    expectDims: 1,
    limit: n,
  });
  const png = join(work, "png");
  const jpeg = join(work, "jpeg");
  for (let c = 0; c < 10; c++) {
    mkdirSync(join(png, `class${c}`), { recursive: true });
    mkdirSync(join(jpeg, `class${c}`), { recursive: true });
  }
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      const pixels = Buffer.from(images.data.subarray(i * 784, (i + 1) * 784));
      const image = sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } });
      const label = `class${labels.data[i]}`;
      await image
        .clone()
        .png()
        .toFile(join(png, label, `${i}.png`));
      await image
        .clone()
        .resize(64, 64)
        .toColourspace("srgb")
        .jpeg({ quality: 90 })
        .toFile(join(jpeg, label, `${i}.jpg`));
    }
  };
  await Promise.all(Array.from({ length: availableParallelism() * 2 }, worker));
  return { png, jpeg };
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

const row = (label: string, ours: number, theirs: number) =>
  console.log(
    `${label.padEnd(52)} ${ours.toFixed(0).padStart(12)} ${theirs.toFixed(0).padStart(12)} ${(ours / theirs).toFixed(2).padStart(7)}`,
  );

/** (c) in a child process: trains on the generated cache and prints its peak RSS in MB. */
async function rssChild(dataset: Record<string, unknown>, resultsDir: string, engine: string): Promise<void> {
  const config = RunConfigSchema.parse({
    results_dir: resultsDir,
    experiment_id: "bench",
    seed: 1,
    batch_size: 64,
    learning_rate: 0.001,
    iterations: 200,
    training_type: "step",
    eval_frequency: 200,
    save_train_outputs: false,
    progress_bar: false,
    engine,
    dataset: { ...dataset, criterion: "CrossEntropy", metrics: ["accuracy"], tracking_metric: "accuracy" },
    model: { id: "CNN", type: "CNN", channels: [16, 32], hidden: 64, dropout: 0.25 },
    optimizer: { id: "Adam", type: "Adam" },
  });
  await trainRun(config, {
    runDir: join(resultsDir, "bench", "training", "rss"),
    log: null,
    progress: false,
  });
  console.log(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024 }));
}

/** Writes a synthetic ImageFolder cache of at least `gb` GB (64×64 RGB, 10 classes) with an index. */
async function syntheticCache(work: string, gb: number): Promise<Record<string, unknown>> {
  const rowBytes = 64 * 64 * 3;
  const n = Math.ceil((gb * 1e9) / rowBytes);
  const root = join(work, "big");
  mkdirSync(root, { recursive: true });
  const lines = ["path,label"];
  for (let i = 0; i < n; i++) lines.push(`x/${i}.png,c${i % 10}`);
  writeFileSync(join(root, "index.csv"), `${lines.join("\n")}\n`);
  const dataset = {
    id: "Big",
    type: "ImageFolder",
    path: root,
    index: "index.csv",
    channels: 3,
    dev_split: 0.001,
    test_split: 0.001,
    cache_dir: join(work, "big-cache"),
  };
  const s = imageFolderSettings(dataset as never);
  mkdirSync(s.cacheDir, { recursive: true });
  const fd = openSync(join(s.cacheDir, "images.npy"), "w");
  writeSync(fd, npyHeader("|u1", [n, 64, 64, 3]));
  const chunk = new Uint8Array(4096 * rowBytes);
  for (let start = 0; start < n; start += 4096) {
    const rows = Math.min(4096, n - start);
    for (let j = 0; j < rows * rowBytes; j++) chunk[j] = ((start + j) * 2654435761) >>> 24;
    writeSync(fd, chunk, 0, rows * rowBytes);
  }
  closeSync(fd);
  writeFileSync(
    join(s.cacheDir, "rows.npy"),
    encodeNpy(
      Int32Array.from({ length: n }, (_, i) => i),
      [n],
    ),
  );
  writeFileSync(join(s.cacheDir, "files.json"), JSON.stringify(lines.slice(1).map((l) => l.split(",")[0])));
  await writeCacheKey(s.cacheDir, s.key);
  return dataset;
}

async function main(): Promise<void> {
  if (process.argv[2] === "--rss-child") {
    await rssChild(
      JSON.parse(process.argv[3] as string),
      process.argv[4] as string,
      process.argv[5] as string,
    );
    return;
  }
  const options = parseOptions(process.argv.slice(2));
  const python =
    torchPython("torch, torchvision") ??
    usage("no python with torch and torchvision (apt-get install python3-torchvision, or set BENCH_PYTHON)");
  const work = options.work ?? mkdtempSync(join(tmpdir(), "curricula-bench-images-"));
  mkdirSync(work, { recursive: true });
  console.log(`engine ${options.engine}, ${options.threads} threads; load before: ${loadAverage()}`);
  const { png, jpeg } = await exportFolders(options.samples, work);
  const results: [string, number, number][] = [];
  const pngDataset = {
    id: "FashionPNG",
    type: "ImageFolder",
    path: png,
    channels: 1,
    dev_split: 0.01,
    test_split: 0.01,
  };
  if (!options.skip.has("a")) {
    for (const [name, dataset, channels] of [
      ["PNG 28×28 grey", pngDataset, 1],
      [
        "JPEG 64×64 RGB",
        {
          id: "FashionJPEG",
          type: "ImageFolder",
          path: jpeg,
          channels: 3,
          dev_split: 0.01,
          test_split: 0.01,
        },
        3,
      ],
    ] as const) {
      const ours = await timed(() => preprocessDataset(dataset as never));
      const theirs = torchSide(python, {
        task: "decode",
        folder: dataset.path,
        channels,
        workers: 2,
        batch: 256,
      });
      results.push([
        `(a) decode + cache, ${name} [images/s]`,
        options.samples / ours,
        theirs.images / theirs.seconds,
      ]);
    }
  }
  if (!options.skip.has("b")) {
    const resultsDir = join(work, "results");
    const runDir = join(resultsDir, "bench", "training", "cropflip");
    const configs = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "configs");
    const config = RunConfigSchema.parse({
      results_dir: resultsDir,
      experiment_id: "bench",
      seed: 1,
      batch_size: 64,
      learning_rate: 0.001,
      iterations: 1,
      save_train_outputs: false,
      progress_bar: false,
      engine: options.engine,
      threads: options.threads,
      dataset: {
        ...pngDataset,
        criterion: "CrossEntropy",
        metrics: ["accuracy"],
        tracking_metric: "accuracy",
      },
      model: readYaml(join(configs, "model", "CNN.yaml")),
      optimizer: readYaml(join(configs, "optimizer", "Adam.yaml")),
      augmentation: readYaml(join(configs, "augmentation", "CropFlip.yaml")),
    });
    await trainRun(config, { runDir, log: null, progress: false });
    const timer = readYaml<{ train: { total_seconds: number } }>(join(runDir, "timer.yaml"));
    const trained = Math.round(options.samples * 0.98);
    const theirs = torchSide(python, {
      task: "epoch",
      folder: png,
      channels: 1,
      workers: 2,
      batch: 64,
      threads: options.threads,
      lr: 0.001,
      seed: 1,
      mean: 0.286,
      std: 0.353,
    });
    results.push([
      "(b) one CNN epoch with CropFlip [images/s]",
      trained / timer.train.total_seconds,
      theirs.images / theirs.seconds,
    ]);
  }
  console.log(`\nload after: ${loadAverage()}; ${options.samples} images`);
  console.log(
    `${"".padEnd(52)} ${"curricula".padStart(12)} ${"PyTorch".padStart(12)} ${"ratio".padStart(7)}`,
  );
  for (const [label, ours, theirs] of results) row(label, ours, theirs);
  if (!options.skip.has("c")) {
    const dataset = await syntheticCache(work, options.rssGb);
    const self = fileURLToPath(import.meta.url);
    const child = spawnSync(
      process.execPath,
      [self, "--rss-child", JSON.stringify(dataset), join(work, "rss-results"), options.engine],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
    );
    if (child.status !== 0) usage(`the training process for (c) exited with ${child.status ?? child.signal}`);
    const { maxRssMb } = JSON.parse(child.stdout.trim().split("\n").pop() as string) as { maxRssMb: number };
    console.log(
      `(c) peak RSS training 200 steps on a ${options.rssGb} GB cache: ${maxRssMb.toFixed(0)} MB (goal < 1536 MB): ${maxRssMb < 1536 ? "ok" : "OVER"}`,
    );
  }
  if (!options.work) rmSync(work, { recursive: true, force: true });
}

await main();
