/**
 * The trainer's online difficulty trackers (src/training/trackers.ts, train_trackers.csv): the
 * arithmetic against a hand-computed case with the cold-start rule, the tables of a fake run against
 * the logits its training steps returned, exact resume, no forward pass of their own, and the EMA
 * factor changing nothing but the tables.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainRunWith } from "../../src/assembly/train-run.js";
import { bestIteration } from "../../src/results/run-folder.js";
import { readTrackerTable, trackerTablePath } from "../../src/results/tracker-table.js";
import { writeCheckpointChecksums } from "../../src/training/checkpoint-integrity.js";
import { bestSnapshotDir } from "../../src/training/resume.js";
import { OnlineTrackers } from "../../src/training/trackers.js";
import type { PassSampler } from "../../src/training/types.js";
import { readCsv } from "../../src/util/csv.js";
import { blobsDataset, type FakeNetwork, fakeDeps } from "./fakes.js";
import { blobConfig, crashAt, differingFiles, straightAndResumed, tempDir } from "./helpers.js";

const root = tempDir("trackers");
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `run${counter++}`);
const quiet = { log: null, progress: false } as const;

describe("OnlineTrackers against a hand-computed case", () => {
  // Two classes, β = 0.5. Sample 0 (label 0): right, wrong, right (a tie goes to the first class);
  // sample 1 (label 1): wrong once; sample 2 (label 1): never trained on.
  const trackers = new OnlineTrackers(3, 2, 0.5);
  trackers.observe(Int32Array.from([0, 1]), Int32Array.from([0, 1]), Float32Array.from([2, 0, 1, 0]));
  trackers.observe(Int32Array.from([0]), Int32Array.from([0]), Float32Array.from([0, 1]));
  trackers.observe(Int32Array.from([0]), Int32Array.from([0]), Float32Array.from([0, 0]));
  const table = trackers.table(Int32Array.from([10, 11, 12]), Int32Array.from([0, 1, 1]));

  it("counts attempts, correct steps and forgetting events", () => {
    expect(Array.from(table.attempts)).toEqual([3, 1, 0]);
    expect(Array.from(table.correct)).toEqual([2, 0, 0]);
    expect(Array.from(table.forgetting)).toEqual([1, 0, 0]);
    expect(table.passRate[0]).toBeCloseTo(2 / 3, 12);
    expect(table.passRate[1]).toBe(0);
  });

  it("starts the EMA at the first loss and then moves it by β", () => {
    const first = Math.log(1 + Math.exp(-2));
    const second = 0.5 * first + 0.5 * Math.log(1 + Math.E);
    const third = 0.5 * second + 0.5 * Math.LN2;
    expect(table.emaLoss[0]).toBeCloseTo(third, 6);
    expect(table.emaLoss[1]).toBeCloseTo(Math.log(1 + Math.E), 6);
  });

  it("tables an unseen sample at the cold-start values: ln C and pass rate 0", () => {
    expect(table.attempts[2]).toBe(0);
    expect(table.emaLoss[2]).toBe(Math.LN2);
    expect(table.passRate[2]).toBe(0);
    expect(Array.from(table.index)).toEqual([0, 1, 2]);
    expect(Array.from(table.sourceIndex)).toEqual([10, 11, 12]);
  });

  it("restores exactly from its JSON state and refuses a state of another size", () => {
    const copy = new OnlineTrackers(3, 2, 0.5);
    copy.setState(JSON.parse(JSON.stringify(trackers.getState())));
    expect(copy.table(Int32Array.from([10, 11, 12]), Int32Array.from([0, 1, 1]))).toEqual(table);
    expect(() => new OnlineTrackers(4, 2, 0.5).setState(trackers.getState())).toThrow(/3 samples/);
    expect(() => new OnlineTrackers(3, 2, 1)).toThrow(/tracker_ema: expected a number in \(0, 1\)/);
  });
});

/** A fake network that keeps a copy of the logits every training step handed back. */
function recordingDeps() {
  const deps = fakeDeps();
  const steps: { y: Int32Array; logits: Float32Array }[] = [];
  const createNetwork = deps.createNetwork;
  deps.createNetwork = (...args: Parameters<typeof createNetwork>) => {
    const net = createNetwork(...args) as FakeNetwork;
    const trainStep = net.trainStep.bind(net);
    net.trainStep = (x, n, y, cw, sw, logitsOut) => {
      const loss = trainStep(x, n, y, cw, sw, logitsOut);
      steps.push({ y: Int32Array.from(y), logits: Float32Array.from(logitsOut ?? []) });
      return loss;
    };
    return net;
  };
  return { deps, steps };
}

describe("the trainer's tracker tables", () => {
  it("hold, at every evaluation, what the training steps' own logits say", async () => {
    // A fixed pass (every second sample, in reverse), so each step's positions are known.
    const pass = Int32Array.from({ length: 45 }, (_, i) => 88 - 2 * i);
    const sampler: PassSampler = { nextPass: () => pass, getState: () => null, setState: () => {} };
    const { deps, steps } = recordingDeps();
    const dir = freshDir();
    const batchSize = 16;
    await trainRunWith(deps, blobConfig({ iterations: 3, batch_size: batchSize, tracker_ema: 0.8 }), {
      runDir: dir,
      ...quiet,
      callbacks: [{ name: "fixed", onTrainBegin: (ctx) => ctx.setSampler(sampler) }],
    });
    const train = blobsDataset(0).subset("train");
    const n = train.size;
    const classes = 3;
    const stepsPerEpoch = Math.ceil(pass.length / batchSize);
    expect(steps).toHaveLength(3 * stepsPerEpoch);
    // The reference, written out plainly: float64 softmax cross-entropy of float32 logits.
    const attempts = new Array(n).fill(0);
    const correct = new Array(n).fill(0);
    const forgetting = new Array(n).fill(0);
    const last = new Array(n).fill(0);
    const ema = new Array(n).fill(Number.NaN);
    for (let epoch = 1; epoch <= 3; epoch++) {
      for (let b = 0; b < stepsPerEpoch; b++) {
        const step = steps[(epoch - 1) * stepsPerEpoch + b] as { y: Int32Array; logits: Float32Array };
        const positions = pass.subarray(b * batchSize, (b + 1) * batchSize);
        positions.forEach((p, i) => {
          const row = Array.from(step.logits.subarray(i * classes, (i + 1) * classes));
          const y = step.y[i] as number;
          expect(y).toBe(train.labels[p]);
          const max = Math.max(...row);
          const loss = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max - (row[y] as number);
          const right = row.indexOf(max) === y ? 1 : 0;
          if (attempts[p] > 0 && last[p] === 1 && right === 0) forgetting[p]++;
          ema[p] = attempts[p] === 0 ? loss : 0.8 * ema[p] + 0.2 * loss;
          attempts[p]++;
          correct[p] += right;
          last[p] = right;
        });
      }
      const table = readTrackerTable(join(dir, `epoch_${epoch}`), train);
      expect(Array.from(table.attempts)).toEqual(attempts);
      expect(Array.from(table.correct)).toEqual(correct);
      expect(Array.from(table.forgetting)).toEqual(forgetting);
      for (let p = 0; p < n; p++) {
        const seen = attempts[p] > 0;
        expect(table.passRate[p]).toBeCloseTo(seen ? correct[p] / attempts[p] : 0, 12);
        expect(table.emaLoss[p]).toBeCloseTo(seen ? ema[p] : Math.log(classes), 5);
      }
      expect(attempts.filter((a) => a === epoch)).toHaveLength(45);
    }
    // Odd positions were never drawn: cold start. And _best/ holds its iteration's table.
    expect(readFileSync(join(dir, "_best", "train_trackers.csv"), "utf8")).toBe(
      readFileSync(join(dir, `epoch_${bestIteration(dir)}`, "train_trackers.csv"), "utf8"),
    );
    expect(readFileSync(trackerTablePath(join(dir, "epoch_3")), "utf8").split("\n")[0]).toBe(
      "index,source_index,encoded,attempts,correct,forgetting,pass_rate,ema_loss",
    );
  });

  it("cost no forward pass: the training network runs forward only for the evaluations", async () => {
    for (const saveTrain of [true, false]) {
      const deps = fakeDeps();
      const config = blobConfig({ iterations: 4, eval_frequency: 2, save_train_outputs: saveTrain });
      await trainRunWith(deps, config, { runDir: freshDir(), ...quiet });
      const trained = deps.networks[0] as FakeNetwork;
      const evaluations = 2;
      expect(trained.batchSizes.reduce((a, b) => a + b, 0)).toBe(4 * 90);
      expect(trained.forwardCalls.rows).toBe(evaluations * ((saveTrain ? 90 : 0) + 30));
    }
  });

  for (const [label, overrides, crash] of [
    ["epoch training", { iterations: 5, save_frequency: 2 }, crashAt(4)],
    [
      "step training, crash mid-pass",
      { training_type: "step", iterations: 23, eval_frequency: 4, save_frequency: 2, batch_size: 16 },
      crashAt(19, "onStep"),
    ],
  ] as const) {
    it(`a killed and resumed run writes the same tables (${label})`, async () => {
      const config = blobConfig(overrides as Record<string, unknown>);
      const { straight, crashed } = await straightAndResumed(config, crash, freshDir);
      const tables = (dir: string) =>
        readdirSync(dir)
          .filter((d) => /^(epoch|step)_\d+$/.test(d) || d === "_best")
          .sort()
          .map((d) => [d, readFileSync(trackerTablePath(join(dir, d)), "utf8")] as const);
      expect(tables(crashed)).toEqual(tables(straight));
      expect(tables(straight).length).toBeGreaterThan(2);
      expect(differingFiles(straight, crashed)).toEqual([]);
    });
  }

  it("a checkpoint of an earlier version (no trackers) resumes, restarting the trackers there, and says so", async () => {
    const config = blobConfig({ iterations: 5, save_frequency: 2 });
    const straight = freshDir();
    await trainRunWith(fakeDeps(), config, { runDir: straight, ...quiet });
    const dir = freshDir();
    await expect(
      trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet, callbacks: [crashAt(3)] }),
    ).rejects.toThrow(/simulated crash/);
    // Make epoch_2's checkpoint one an earlier version wrote: no trackers in its state.
    const checkpoint = join(dir, "epoch_2");
    const statePath = join(checkpoint, "trainer_state.json");
    const { trackers: _dropped, ...state } = JSON.parse(readFileSync(statePath, "utf8"));
    writeFileSync(statePath, JSON.stringify(state));
    writeCheckpointChecksums(checkpoint, state, bestSnapshotDir(dir, 2));
    await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet });
    expect(readFileSync(join(dir, "training.log"), "utf8")).toContain(
      "The checkpoint has no online trackers (an earlier version): they restart here",
    );
    const train = blobsDataset(0).subset("train");
    // Three epochs after the resume, every sample once per epoch; the training itself is unchanged.
    expect(Array.from(readTrackerTable(join(dir, "epoch_5"), train).attempts)).toEqual(new Array(90).fill(3));
    expect(readFileSync(join(dir, "metrics.csv"), "utf8")).toBe(
      readFileSync(join(straight, "metrics.csv"), "utf8"),
    );
  });

  it("a run on part of the train subset tables its rows, indexed in the whole subset", async () => {
    const dir = freshDir();
    const positions = Int32Array.from([5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43]);
    await trainRunWith(fakeDeps(), blobConfig({ iterations: 2 }), {
      runDir: dir,
      ...quiet,
      trainPositions: positions,
    });
    const { rows } = readCsv(trackerTablePath(join(dir, "epoch_2")));
    const train = blobsDataset(0).subset("train");
    expect(rows.map((r) => Number(r.index))).toEqual(Array.from(positions));
    expect(rows.map((r) => Number(r.source_index))).toEqual(
      Array.from(positions, (p) => train.sourceIndex[p]),
    );
    expect(rows.map((r) => Number(r.encoded))).toEqual(Array.from(positions, (p) => train.labels[p]));
    expect(rows.every((r) => r.attempts === "2")).toBe(true);
  });

  it("tracker_ema changes the tables and nothing else the run computes", async () => {
    const a = freshDir();
    const b = freshDir();
    await trainRunWith(fakeDeps(), blobConfig({ iterations: 2 }), { runDir: a, ...quiet });
    await trainRunWith(fakeDeps(), blobConfig({ iterations: 2, tracker_ema: 0.5 }), { runDir: b, ...quiet });
    const differing = differingFiles(a, b);
    expect(differing).toContain("config.yaml");
    expect(differing).toContain("epoch_2/train_trackers.csv");
    // The tables and the checkpoints' tracker state; models, outputs and metrics are identical.
    const trackerFiles = /\/(train_trackers\.csv|trainer_state\.json|checksums\.json)$/;
    expect(differing.filter((f) => f !== "config.yaml" && !trackerFiles.test(f))).toEqual([]);
    // Epoch 1 saw every sample once: its EMA is the first loss whatever β is.
    expect(differing).not.toContain("epoch_1/train_trackers.csv");
    expect(readFileSync(join(a, "config.yaml"), "utf8")).toContain("tracker_ema: 0.9");
  });
});
