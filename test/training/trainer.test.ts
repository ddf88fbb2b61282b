import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainRunWith } from "../../src/assembly/train-run.js";
import {
  bestIteration,
  checkpointDir,
  isRunFinished,
  listIterations,
  readRunConfig,
} from "../../src/results/run-folder.js";
import type { PassSampler, TrainCallback } from "../../src/training/types.js";
import { readCsv } from "../../src/util/csv.js";
import { ConfigError } from "../../src/util/errors.js";
import { loadNpy } from "../../src/util/npy.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { fakeDeps, samplesDrawn } from "./fakes.js";
import { blobConfig, crashAt, differingFiles, listFiles, tempDir } from "./helpers.js";

const root = tempDir("trainer");
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `run${counter++}`);
const quiet = { log: null, progress: false } as const;

describe("trainRun with a fake engine: the run folder", () => {
  const config = blobConfig({ iterations: 5, save_frequency: 2 });
  const dir = freshDir();
  let result: Awaited<ReturnType<typeof trainRunWith>>;

  it("trains and reports the best iteration, dev and test results", async () => {
    result = await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet });
    expect(result.skipped).toBe(false);
    expect(result.bestIteration).toBeGreaterThanOrEqual(1);
    expect(Object.keys(result.best)).toEqual(["accuracy", "uar", "f1", "dev_loss"]);
    expect(Object.keys(result.test)).toEqual(["accuracy", "uar", "f1", "loss"]);
    expect(result.test.accuracy).toBeGreaterThanOrEqual(0.7);
  });

  it("holds every file of the layout", () => {
    const files = new Set(listFiles(dir));
    for (const f of ["config.yaml", "metrics.csv", "training.log", "timer.yaml", "hardware.yaml"]) {
      expect(files, f).toContain(f);
    }
    for (let e = 1; e <= 5; e++) {
      expect(files).toContain(`epoch_${e}/dev.yaml`);
      for (const subset of ["train", "dev"]) {
        for (const kind of ["outputs", "targets", "indices", "losses"]) {
          expect(files).toContain(`epoch_${e}/${subset}_${kind}.npy`);
        }
      }
      // save_frequency 2: models at 2, 4 and the last epoch only.
      const saved = e % 2 === 0 || e === 5;
      for (const f of [
        "model.json",
        "weights.bin",
        "optimizer.json",
        "optimizer.bin",
        "trainer_state.json",
        "checksums.json",
      ]) {
        expect(files.has(`epoch_${e}/${f}`), `epoch_${e}/${f}`).toBe(saved);
      }
    }
    for (const f of [
      "model.json",
      "weights.bin",
      "dev.yaml",
      "best_results.yaml",
      "train_outputs.npy",
      "dev_losses.npy",
    ]) {
      expect(files).toContain(`_best/${f}`);
    }
    for (const f of [
      "test_holistic.yaml",
      "test_outputs.npy",
      "test_targets.npy",
      "test_indices.npy",
      "test_losses.npy",
    ]) {
      expect(files).toContain(`_test/${f}`);
    }
    expect([...files].some((f) => f.startsWith(".resume") || f.includes(".tmp-"))).toBe(false);
  });

  it("writes metrics.csv with one row per evaluation", () => {
    const { columns, rows } = readCsv(join(dir, "metrics.csv"));
    expect(columns).toEqual(["accuracy", "uar", "f1", "train_loss", "dev_loss", "iteration", "samples_seen"]);
    expect(rows.map((r) => r.iteration)).toEqual(["1", "2", "3", "4", "5"]);
    for (const row of rows) for (const c of columns) expect(Number.isFinite(Number(row[c])), c).toBe(true);
  });

  it("writes timing.csv: the cumulative training seconds at each evaluation", () => {
    const { columns, rows } = readCsv(join(dir, "timing.csv"));
    expect(columns).toEqual(["iteration", "samples_seen", "train_seconds"]);
    expect(rows.map((r) => r.iteration)).toEqual(["1", "2", "3", "4", "5"]);
    const seconds = rows.map((r) => Number(r.train_seconds));
    for (let i = 1; i < seconds.length; i++)
      expect(seconds[i]).toBeGreaterThanOrEqual(seconds[i - 1] as number);
    expect(seconds[0]).toBeGreaterThanOrEqual(0);
  });

  it("writes dev.yaml, the outputs and _best consistently", () => {
    const dev = readYaml<Record<string, unknown>>(join(dir, "epoch_3", "dev.yaml"));
    expect(Object.keys(dev)).toEqual(["accuracy", "uar", "f1", "dev_loss", "iteration"]);
    expect(dev.iteration).toBe(3);
    const outputs = loadNpy(join(dir, "epoch_3", "train_outputs.npy"));
    expect(outputs.shape).toEqual([90, 3]);
    expect(outputs.data).toBeInstanceOf(Float32Array);
    expect(loadNpy(join(dir, "epoch_3", "dev_targets.npy")).data).toBeInstanceOf(Int32Array);
    expect(Array.from(loadNpy(join(dir, "epoch_3", "dev_indices.npy")).data)).toEqual(
      Array.from({ length: 30 }, (_, i) => i),
    );
    const b = bestIteration(dir);
    expect(b).toBe(result.bestIteration);
    const { rows } = readCsv(join(dir, "metrics.csv"));
    const best = Math.max(...rows.map((r) => Number(r.accuracy)));
    // _best is the first iteration reaching the best accuracy (strict improvement).
    expect(rows.find((r) => Number(r.accuracy) === best)?.iteration).toBe(String(b));
    expect(readFileSync(join(dir, "_best", "dev_outputs.npy"))).toEqual(
      readFileSync(join(dir, `epoch_${b}`, "dev_outputs.npy")),
    );
    const bestResults = readYaml<Record<string, number>>(join(dir, "_best", "best_results.yaml"));
    expect(bestResults.best_iteration).toBe(b);
    expect(bestResults.accuracy).toBe(best);
    expect(bestResults.dev_loss_min).toBe(Math.min(...rows.map((r) => Number(r.dev_loss))));
  });

  it("logs dev, best and test results", () => {
    const log = readFileSync(join(dir, "training.log"), "utf8");
    expect(log).toMatch(/Dev results at epoch 1: accuracy: \d\.\d{4}, uar: .*dev_loss: /);
    expect(log).toMatch(/Best results at epoch \d: accuracy/);
    expect(log).toMatch(/Test results: accuracy: .*loss: /);
    const hardware = readYaml<{ system: Record<string, unknown>; engine: { backend: string } }>(
      join(dir, "hardware.yaml"),
    );
    expect(hardware.engine.backend).toBe("fake");
    expect(Object.keys(hardware.system)).toEqual(
      expect.arrayContaining(["os", "platform", "memory_gb", "cpu_count", "node"]),
    );
    const timer = readYaml<Record<string, Record<string, unknown>>>(join(dir, "timer.yaml"));
    expect(Object.keys(timer)).toEqual(["train", "dev", "test"]);
    expect(Object.keys(timer.train ?? {})).toEqual(["mean", "mean_seconds", "total", "total_seconds"]);
  });

  it("answers the readers", () => {
    expect(isRunFinished(dir)).toBe(true);
    // The saved config holds the engine that engine=auto resolved to (the fakes resolve it to wasm).
    expect(readRunConfig(dir)).toEqual({ ...config, engine: "wasm" });
    expect(listIterations(dir).map((it) => [it.iteration, it.hasModel])).toEqual([
      [1, false],
      [2, true],
      [3, false],
      [4, true],
      [5, true],
    ]);
    expect(checkpointDir(dir, "best")).toBe(join(dir, "_best"));
    expect(checkpointDir(dir, "last")).toBe(join(dir, "epoch_5"));
    // A later folder without a model is not "last" (the original's quirk §15.4).
    mkdirSync(join(dir, "epoch_6"));
    expect(checkpointDir(dir, "last")).toBe(join(dir, "epoch_5"));
    rmSync(join(dir, "epoch_6"), { recursive: true });
  });

  it("reuses a finished run of the same config without training", async () => {
    const deps = fakeDeps();
    const again = await trainRunWith(
      deps,
      blobConfig({ iterations: 5, save_frequency: 2, progress_bar: true }),
      {
        runDir: dir,
        ...quiet,
      },
    );
    expect(again).toEqual({ ...result, skipped: true });
    expect(deps.networks).toHaveLength(0);
  });

  it("removes the resume snapshots a kill after metrics.csv left behind when it reuses the run", async () => {
    mkdirSync(join(dir, ".resume", "best_4"), { recursive: true });
    const again = await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet });
    expect(again.skipped).toBe(true);
    expect(existsSync(join(dir, ".resume"))).toBe(false);
  });

  it("refuses a finished run of a different config and lists the differences", async () => {
    const other = blobConfig({ iterations: 5, save_frequency: 2, learning_rate: 0.1 });
    const error = await trainRunWith(fakeDeps(), other, { runDir: dir, ...quiet }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("config.yaml");
    expect(error.message).toContain("learning_rate: 0.05 (saved) vs 0.1 (requested)");
  });
});

describe("trainRun with a fake engine: reproducibility and resume", () => {
  it("gives byte-identical outputs for the same seed and different ones for another seed", async () => {
    const a = freshDir();
    const b = freshDir();
    const c = freshDir();
    await trainRunWith(fakeDeps(), blobConfig(), { runDir: a, ...quiet });
    await trainRunWith(fakeDeps(), blobConfig(), { runDir: b, ...quiet });
    await trainRunWith(fakeDeps(), blobConfig({ seed: "2-1" }), { runDir: c, ...quiet });
    expect(differingFiles(a, b)).toEqual([]);
    expect(differingFiles(a, c)).toContain("metrics.csv");
  });

  for (const [label, overrides, crash] of [
    ["epoch training, crash after a checkpoint", { iterations: 6 }, crashAt(4)],
    [
      "epoch training, crash mid-epoch with a later _best",
      { iterations: 6, save_frequency: 3 },
      crashAt(5, "onStep"),
    ],
    [
      "step training, crash mid-pass",
      { training_type: "step", iterations: 23, eval_frequency: 4, save_frequency: 2, batch_size: 16 },
      crashAt(19, "onStep"),
    ],
    [
      "StepLR and balanced criterion",
      {
        iterations: 6,
        scheduler: { id: "StepLR", type: "StepLR", step_size: 2, gamma: 0.5 },
        dataset: { id: "Blobs", type: "Blobs", criterion: "BalancedCrossEntropy" },
      },
      crashAt(3),
    ],
  ] as const) {
    it(`resumes to the same result as an uninterrupted run (${label})`, async () => {
      const config = blobConfig(overrides as Record<string, unknown>);
      const straight = freshDir();
      await trainRunWith(fakeDeps(), config, { runDir: straight, ...quiet });
      const crashed = freshDir();
      await expect(
        trainRunWith(fakeDeps(), config, { runDir: crashed, ...quiet, callbacks: [crash] }),
      ).rejects.toThrow(/simulated crash/);
      expect(isRunFinished(crashed)).toBe(false);
      const resumed = await trainRunWith(fakeDeps(), config, { runDir: crashed, ...quiet });
      expect(resumed.skipped).toBe(false);
      expect(readFileSync(join(crashed, "training.log"), "utf8")).toContain("Resuming");
      expect(differingFiles(straight, crashed)).toEqual([]);
    });
  }

  it("refuses to resume an unfinished run of a different config", async () => {
    const dir = freshDir();
    await expect(
      trainRunWith(fakeDeps(), blobConfig(), { runDir: dir, ...quiet, callbacks: [crashAt(3)] }),
    ).rejects.toThrow();
    const error = await trainRunWith(fakeDeps(), blobConfig({ batch_size: 8 }), {
      runDir: dir,
      ...quiet,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("unfinished run");
    expect(error.message).toContain("batch_size: 16 (saved) vs 8 (requested)");
  });

  it("refuses to resume an unfinished run that trained on other trainPositions", async () => {
    const dir = freshDir();
    const fold = Int32Array.from({ length: 45 }, (_, i) => i * 2);
    await expect(
      trainRunWith(fakeDeps(), blobConfig(), {
        runDir: dir,
        ...quiet,
        trainPositions: fold,
        callbacks: [crashAt(3)],
      }),
    ).rejects.toThrow("simulated crash");
    await expect(trainRunWith(fakeDeps(), blobConfig(), { runDir: dir, ...quiet })).rejects.toThrow(
      /trainPositions/,
    );
    const resumed = await trainRunWith(fakeDeps(), blobConfig(), {
      runDir: dir,
      ...quiet,
      trainPositions: fold,
    });
    expect(resumed.skipped).toBe(false);
  });

  it("starts over when a crashed run left no checkpoint", async () => {
    const config = blobConfig({ iterations: 4, save_frequency: 4 });
    const straight = freshDir();
    await trainRunWith(fakeDeps(), config, { runDir: straight, ...quiet });
    const dir = freshDir();
    await expect(
      trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet, callbacks: [crashAt(3)] }),
    ).rejects.toThrow();
    expect(existsSync(join(dir, "epoch_2", "dev.yaml"))).toBe(true);
    await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet });
    expect(differingFiles(straight, dir)).toEqual([]);
  });
});

describe("trainRun with a fake engine: samples seen", () => {
  /** samples_seen of metrics.csv by iteration. */
  const samplesSeen = (dir: string) =>
    new Map(readCsv(join(dir, "metrics.csv")).rows.map((r) => [Number(r.iteration), Number(r.samples_seen)]));

  for (const [label, overrides] of [
    ["epoch training, a last partial batch", { iterations: 4, batch_size: 16 }],
    [
      "step training across passes",
      { training_type: "step", iterations: 23, eval_frequency: 4, batch_size: 16 },
    ],
    ["epoch training on trainPositions", { iterations: 3, batch_size: 7 }],
  ] as const) {
    it(`equals the sum of the batch sizes drawn (${label})`, async () => {
      const dir = freshDir();
      const drawn = samplesDrawn();
      const restricted = label.includes("trainPositions");
      await trainRunWith(fakeDeps(), blobConfig(overrides as Record<string, unknown>), {
        runDir: dir,
        ...quiet,
        callbacks: [drawn],
        ...(restricted ? { trainPositions: Int32Array.from({ length: 50 }, (_, i) => i) } : {}),
      });
      expect(samplesSeen(dir)).toEqual(drawn.atEvaluation);
      expect(drawn.atEvaluation.size).toBeGreaterThan(1);
      if (restricted) expect(samplesSeen(dir).get(3)).toBe(150);
      else if (label.startsWith("epoch")) expect(samplesSeen(dir).get(4)).toBe(4 * 90);
      // 90 samples a pass in 6 batches (5 × 16 + 10): steps 1–18 are three passes, 19–23 five full batches
      else expect(samplesSeen(dir).get(23)).toBe(3 * 90 + 5 * 16);
    });
  }

  it("continues counting after a resume: the resumed run records what an uninterrupted one does", async () => {
    const config = blobConfig({
      training_type: "step",
      iterations: 23,
      eval_frequency: 4,
      save_frequency: 2,
    });
    const straight = freshDir();
    const drawn = samplesDrawn();
    await trainRunWith(fakeDeps(), config, { runDir: straight, ...quiet, callbacks: [drawn] });
    const crashed = freshDir();
    await expect(
      trainRunWith(fakeDeps(), config, { runDir: crashed, ...quiet, callbacks: [crashAt(19, "onStep")] }),
    ).rejects.toThrow(/simulated crash/);
    // The resumed process trains only the steps after the checkpoint (16): its own network sees
    // fewer samples, yet the counter continues from the trainer state.
    const resumedDrawn = samplesDrawn();
    await trainRunWith(fakeDeps(), config, { runDir: crashed, ...quiet, callbacks: [resumedDrawn] });
    expect(samplesSeen(crashed)).toEqual(drawn.atEvaluation);
    const atEnd = drawn.atEvaluation.get(23) as number;
    expect(resumedDrawn.atEvaluation.get(23)).toBe(atEnd - (drawn.atEvaluation.get(16) as number));
  });
});

describe("trainRun with a fake engine: loop, callbacks and options", () => {
  it("fires the hooks in order in epoch training", async () => {
    const events: string[] = [];
    const spy: TrainCallback = {
      name: "spy",
      onTrainBegin: (ctx) => {
        events.push(`begin@${ctx.iteration}`);
      },
      onIterationBegin: (_c, i) => {
        events.push(`iter${i}`);
      },
      onStep: (_c, i, b) => {
        if (b === 0) events.push(`step${i}`);
      },
      onValidationEnd: (_c, i, m) => {
        events.push(`val${i}:${typeof m.accuracy}`);
      },
      onIterationEnd: (_c, i) => {
        events.push(`end${i}`);
      },
      onPassExhausted: (_c, i) => {
        events.push(`pass${i}`);
      },
      onTrainEnd: () => {
        events.push("done");
      },
    };
    await trainRunWith(fakeDeps(), blobConfig({ iterations: 3, eval_frequency: 2 }), {
      runDir: freshDir(),
      ...quiet,
      callbacks: [spy],
    });
    expect(events).toEqual([
      "begin@0",
      "iter1",
      "step1",
      "pass1",
      "iter2",
      "step2",
      "val2:number",
      "end2",
      "pass2",
      "iter3",
      "step3",
      "val3:number",
      "end3",
      "pass3",
      "done",
    ]);
  });

  it("in step training, exhausts passes at pass boundaries and evaluates every eval_frequency steps", async () => {
    const exhausted: number[] = [];
    const begins: number[] = [];
    const dir = freshDir();
    // 90 rows, batch 32 -> passes of 3 batches; 10 steps -> passes end before steps 4, 7, 10.
    await trainRunWith(
      fakeDeps(),
      blobConfig({ training_type: "step", iterations: 10, eval_frequency: 4, batch_size: 32 }),
      {
        runDir: dir,
        ...quiet,
        callbacks: [
          {
            name: "spy",
            onPassExhausted: (_c, i) => {
              exhausted.push(i);
            },
            onIterationBegin: (_c, i) => {
              begins.push(i);
            },
          },
        ],
      },
    );
    expect(exhausted).toEqual([4, 7, 10]);
    expect(begins).toEqual([1, 5, 9]);
    expect(listIterations(dir).map((it) => it.iteration)).toEqual([4, 8, 10]);
    expect(readCsv(join(dir, "metrics.csv")).rows.map((r) => r.iteration)).toEqual(["4", "8", "10"]);
  });

  it("trains on the sampler and class weights a callback installs", async () => {
    const seen: number[][] = [];
    const onlyFirstTen: PassSampler = {
      nextPass: () => Int32Array.from({ length: 10 }, (_, i) => i),
      getState: () => null,
      setState: () => {},
    };
    const weights = Float32Array.from([1, 0, 0]);
    const deps = fakeDeps();
    const dir = freshDir();
    await trainRunWith(deps, blobConfig({ iterations: 2, batch_size: 4 }), {
      runDir: dir,
      ...quiet,
      callbacks: [
        {
          name: "installer",
          onTrainBegin: (ctx) => {
            ctx.setSampler(onlyFirstTen);
            ctx.setClassWeights(weights);
          },
          onStep: (ctx) => {
            seen.push([ctx.classWeights === weights ? 1 : 0]);
          },
        },
      ],
    });
    // 10 samples per pass in batches of 4 -> 3 steps per epoch.
    expect(seen).toHaveLength(6);
    expect(seen.every(([same]) => same === 1)).toBe(true);
  });

  it("restricts training to trainPositions and maps train indices back to the train subset", async () => {
    const dir = freshDir();
    const positions = Int32Array.from([5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43]);
    await trainRunWith(fakeDeps(), blobConfig({ iterations: 2 }), {
      runDir: dir,
      ...quiet,
      trainPositions: positions,
    });
    const indices = loadNpy(join(dir, "epoch_2", "train_indices.npy"));
    expect(Array.from(indices.data)).toEqual(Array.from(positions));
    expect(loadNpy(join(dir, "epoch_2", "train_outputs.npy")).shape).toEqual([12, 3]);
    expect(loadNpy(join(dir, "epoch_2", "dev_outputs.npy")).shape).toEqual([30, 3]);
  });

  it("honours save_*_outputs", async () => {
    const dir = freshDir();
    await trainRunWith(
      fakeDeps(),
      blobConfig({
        iterations: 2,
        save_train_outputs: false,
        save_dev_outputs: false,
        save_test_outputs: false,
      }),
      { runDir: dir, ...quiet },
    );
    expect(listFiles(dir).filter((f) => f.endsWith(".npy"))).toEqual([]);
    expect(existsSync(join(dir, "_test", "test_holistic.yaml"))).toBe(true);
  });

  it("disposes every network it creates or loads", async () => {
    const deps = fakeDeps();
    await trainRunWith(deps, blobConfig({ iterations: 2 }), { runDir: freshDir(), ...quiet });
    expect(deps.networks.length).toBe(2);
    expect(deps.networks.every((n) => n.disposed)).toBe(true);
  });

  it("rejects an invalid config naming the key", async () => {
    const bad = { ...blobConfig(), batch_size: 0 };
    await expect(trainRunWith(fakeDeps(), bad, { runDir: freshDir(), ...quiet })).rejects.toThrow(
      /batch_size/,
    );
  });
});
