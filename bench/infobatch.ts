/**
 * InfoBatch's setting at small scale (Qin et al., ICLR 2024): Fashion-MNIST, the packaged CNN,
 * InfoBatch (`curriculum=Dynamic curriculum/sampling=InfoBatch`, its paper's prune_ratio 0.5 and
 * delta 0.875) against the full-data baseline with the same epochs, on the same seeds. Prints each
 * seed's samples seen and test accuracy, then the paired differences over the seeds (bootstrap 95%
 * interval, sign-flip p) of the fraction of samples saved and of test accuracy.
 *
 *   npm run build && npm run bench:infobatch
 *
 * Env: BENCH_SEEDS (default 5), BENCH_EPOCHS (default 15), BENCH_LIMIT (training images, default
 * 12000: 90% train, 10% dev), BENCH_TEST_LIMIT (default 2000), BENCH_ENGINE (default auto),
 * BENCH_RESULTS (results folder; default a fresh temp folder, kept and printed); `--report-only`
 * prints the tables of the finished runs in BENCH_RESULTS without training. Needs the Debian
 * package dataset-fashion-mnist. The goal it checks: at least 30% fewer samples seen at a test
 * accuracy whose interval includes the baseline's (exit code 1 otherwise).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { listRuns } from "../src/results/experiment.js";
import { bootstrapInterval, comparePaired } from "../src/util/paired.js";
import { benchScript } from "./common.js";

const seeds = Array.from({ length: Number(process.env.BENCH_SEEDS ?? 5) }, (_, i) => i + 1);
const epochs = Number(process.env.BENCH_EPOCHS ?? 15);
const limit = Number(process.env.BENCH_LIMIT ?? 12000);
const testLimit = Number(process.env.BENCH_TEST_LIMIT ?? 2000);
const engine = process.env.BENCH_ENGINE ?? "auto";
const results = process.env.BENCH_RESULTS ?? mkdtempSync(join(tmpdir(), "curricula-infobatch-"));
const experiment = "infobatch";
const bin = join(benchScript("common.ts"), "..", "..", "bin", "curricula.js");

const common = [
  "dataset=FashionMNIST",
  `dataset.limit=${limit}`,
  `dataset.test_limit=${testLimit}`,
  "model=CNN",
  "optimizer=Adam",
  "learning_rate=0.001",
  "batch_size=32",
  "training_type=epoch",
  `iterations=${epochs}`,
  "eval_frequency=1",
  `save_frequency=${epochs}`,
  `engine=${engine}`,
  `seed=${seeds.map((s) => `${s}-1`).join(",")}`,
  `results_dir=${results}`,
  `experiment_id=${experiment}`,
];

function curricula(args: string[]): void {
  execFileSync(process.execPath, [bin, ...args, "--no-progress"], { stdio: ["ignore", "ignore", "inherit"] });
}

interface Run {
  seed: string;
  dynamic: boolean;
  samples: number;
  testAccuracy: number;
  trainSeconds: number;
}

function readRuns(): Run[] {
  const dir = join(results, experiment, "training");
  return listRuns(results, experiment, { finished: true }).map((name) => {
    const run = join(dir, name);
    const config = parse(readFileSync(join(run, "config.yaml"), "utf8"));
    const lines = readFileSync(join(run, "metrics.csv"), "utf8").trim().split("\n");
    const header = (lines[0] ?? "").split(",");
    const last = (lines[lines.length - 1] ?? "").split(",");
    const test = parse(readFileSync(join(run, "_test", "test_holistic.yaml"), "utf8"));
    const timer = parse(readFileSync(join(run, "timer.yaml"), "utf8"));
    return {
      seed: String(config.seed),
      dynamic: config.curriculum?.type === "Dynamic",
      samples: Number(last[header.indexOf("samples_seen")]),
      testAccuracy: Number(test.accuracy.all),
      trainSeconds: Number(timer.train.total_seconds),
    };
  });
}

const start = Date.now();
if (!process.argv.includes("--report-only")) {
  curricula(["train", ...common]);
  curricula(["train", ...common, "curriculum=Dynamic", "curriculum/sampling=InfoBatch"]);
}
const runs = readRuns();
const bySeed = (dynamic: boolean) =>
  new Map(runs.filter((r) => r.dynamic === dynamic).map((r) => [r.seed, r] as const));
const base = bySeed(false);
const ib = bySeed(true);
const paired = [...base.keys()].filter((s) => ib.has(s)).sort();

console.log(`Fashion-MNIST ${limit} images (90% train), CNN, ${epochs} epochs, batch 32, engine ${engine}`);
console.log(
  "seed     baseline samples  InfoBatch samples  saved   baseline acc  InfoBatch acc  train s (base / IB)",
);
for (const s of paired) {
  const b = base.get(s) as Run;
  const i = ib.get(s) as Run;
  console.log(
    `${s.padEnd(8)} ${String(b.samples).padStart(16)}  ${String(i.samples).padStart(17)}  ${(100 * (1 - i.samples / b.samples)).toFixed(1).padStart(5)}%  ${b.testAccuracy.toFixed(4).padStart(12)}  ${i.testAccuracy.toFixed(4).padStart(13)}  ${b.trainSeconds.toFixed(1)} / ${i.trainSeconds.toFixed(1)}`,
  );
}
const saved = paired.map((s) => 1 - (ib.get(s) as Run).samples / (base.get(s) as Run).samples);
const savedInterval = bootstrapInterval(saved, { seed: 0 });
const accuracy = comparePaired(
  paired.map((s) => (base.get(s) as Run).testAccuracy),
  paired.map((s) => (ib.get(s) as Run).testAccuracy),
  { seed: 0 },
);
const pct = (x: number) => `${(100 * x).toFixed(1)}`;
console.log(
  `samples saved: ${pct(saved.reduce((a, b) => a + b, 0) / saved.length)}% [${pct(savedInterval.low)}, ${pct(savedInterval.high)}] over ${paired.length} seeds`,
);
console.log(
  `test accuracy, InfoBatch - baseline: ${pct(accuracy.meanDifference)} points [${pct(accuracy.low)}, ${pct(accuracy.high)}], p = ${accuracy.p.toFixed(3)} (${paired.length} seeds cannot reach p < ${accuracy.minP.toFixed(3)})`,
);
console.log(`results in ${results}; ${((Date.now() - start) / 1000).toFixed(0)} s in all`);
const goal = saved.reduce((a, b) => a + b, 0) / saved.length >= 0.3;
const lossless = accuracy.low <= 0 && accuracy.high >= 0;
console.log(
  `${goal && lossless ? "PASS" : "FAIL"}: at least 30% fewer samples (${goal ? "yes" : "no"}), accuracy interval includes the baseline's (${lossless ? "yes" : "no"})`,
);
process.exitCode = goal && lossless ? 0 : 1;
