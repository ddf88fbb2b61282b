import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainRunWith } from "../../src/assembly/train-run.js";
import type { RunConfig } from "../../src/config/schema.js";
import { readScoreDrift } from "../../src/results/score-drift.js";
import { readCsv, writeCsv } from "../../src/util/csv.js";
import { Rng } from "../../src/util/rng.js";
import { expectClose } from "../support/assert.js";
import { numpyScipy, python } from "../support/python.js";
import { describeWith } from "../support/system.js";
import { fakeDeps } from "../training/fakes.js";
import { blobConfig, crashAt, differingFiles, straightAndResumed, tempDir } from "../training/helpers.js";

// The real trainer loop with the training tests' pure-JS engine and Blobs data (90 training
// samples, 3 classes, source indices 0..89), a CELoss score of seeded random ranks.
const root = tempDir("rescore-training");
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `run${counter++}`);
const quiet = { log: null, progress: false } as const;

const ranks = Array.from(new Rng(7).permutation(90), (r) => r / 89);
for (const type of ["CELoss", "AUM"]) {
  writeCsv(
    join(root, "drift", "curriculum", type, `${type}.csv`),
    ["index", "source_index", "mean", "ranks"],
    ranks.map((r, i) => ({ index: i, source_index: i, mean: r, ranks: r })),
  );
}

function rescoredRun(
  overrides: Record<string, unknown>,
  rescoreEvery: number | undefined,
  score: "CELoss" | "AUM" = "CELoss",
): RunConfig {
  return blobConfig({
    results_dir: root,
    experiment_id: "drift",
    curriculum: {
      id: "Curriculum",
      type: "Curriculum",
      short: "C",
      scoring: { id: score, type: score },
      pacing: { id: "Linear", type: "Linear", initial_size: 0.2, final_iteration: 0.8 },
      sampling: { id: "Unbalanced", short: "U" },
      ...(rescoreEvery === undefined ? {} : { rescore_every: rescoreEvery }),
    },
    ...overrides,
  });
}

/** scipy's Spearman of consecutive CELoss snapshots, recomputed from the run's saved .npy files. */
const REFERENCE = `
import json, sys
import numpy as np
from scipy.special import log_softmax
from scipy.stats import spearmanr
d = json.load(sys.stdin)
def celoss(it):
    folder = f"{d['run']}/{d['kind']}_{it}"
    logits = np.load(f"{folder}/train_outputs.npy").astype(np.float64)
    idx = np.load(f"{folder}/train_indices.npy")
    y = np.load(f"{folder}/train_targets.npy")
    ce = np.empty(len(idx))
    ce[idx] = -log_softmax(logits, axis=1)[np.arange(len(y)), y]
    return ce
previous = np.array(d['ranks'])
out = []
for it in d['at']:
    now = celoss(it)
    out.append(float(spearmanr(previous, now).statistic))
    previous = now
print(json.dumps(out))
`;

describeWith(numpyScipy, "a re-scored curriculum run with the trainer", () => {
  it("logs score_drift.csv at evaluations 2 and 4 of 6 with scipy's Spearman of its own CELoss, and plots it", async () => {
    const dir = freshDir();
    await trainRunWith(fakeDeps(), rescoredRun({ iterations: 6, batch_size: 8 }, 2), {
      runDir: dir,
      ...quiet,
    });
    const rows = readScoreDrift(dir);
    expect(rows?.map((r) => [r.iteration, r.evaluation, r.previous_iteration])).toEqual([
      [2, 2, 0],
      [4, 4, 2],
    ]);
    const expected = python<number[]>(
      REFERENCE,
      [],
      JSON.stringify({ run: dir, kind: "epoch", ranks, at: [2, 4] }),
    );
    expectClose(
      rows?.map((r) => r.spearman) ?? [],
      expected,
      "Spearman of consecutive snapshots",
      1e-9,
      1e-9,
    );
    expect(existsSync(join(dir, "_plots", "score_drift.svg"))).toBe(true);
    expect(existsSync(join(dir, "_plots", "score_drift.png"))).toBe(true);
    expect(readFileSync(join(dir, "training.log"), "utf8")).toMatch(
      /curriculum: re-scored by CELoss from the outputs of epoch 2 \(Spearman -?\d\.\d{4} with the score file\)/,
    );
  });

  it("trains as the unscored run up to the first re-scoring and differently after it", async () => {
    const plain = freshDir();
    const rescored = freshDir();
    await trainRunWith(fakeDeps(), rescoredRun({ iterations: 6, batch_size: 8 }, undefined), {
      runDir: plain,
      ...quiet,
    });
    await trainRunWith(fakeDeps(), rescoredRun({ iterations: 6, batch_size: 8 }, 2), {
      runDir: rescored,
      ...quiet,
    });
    const metrics = (d: string) => readCsv(join(d, "metrics.csv")).rows;
    expect(metrics(rescored).slice(0, 2)).toEqual(metrics(plain).slice(0, 2));
    expect(metrics(rescored)[2]).not.toEqual(metrics(plain)[2]);
    // the run without the key writes no drift log and keeps its config as before
    expect(existsSync(join(plain, "score_drift.csv"))).toBe(false);
    expect(readFileSync(join(plain, "config.yaml"), "utf8")).not.toContain("rescore_every");
  });
});

describe("re-scored curriculum runs are reproducible", () => {
  it("two runs with the same seed are byte-identical", async () => {
    const config = rescoredRun({ iterations: 6, batch_size: 8 }, 1);
    const a = freshDir();
    const b = freshDir();
    await trainRunWith(fakeDeps(), config, { runDir: a, ...quiet });
    await trainRunWith(fakeDeps(), config, { runDir: b, ...quiet });
    expect(readScoreDrift(a)).toHaveLength(5);
    expect(differingFiles(a, b)).toEqual([]);
  });

  for (const [label, overrides, every, crash, score] of [
    [
      "epoch training, killed after a re-scoring",
      { iterations: 7, batch_size: 8 },
      2,
      crashAt(5, "onIterationEnd"),
      "CELoss",
    ],
    [
      "AUM over every evaluation so far, killed between re-scorings",
      { iterations: 8, batch_size: 8, save_frequency: 2 },
      1,
      crashAt(5, "onIterationEnd"),
      "AUM",
    ],
    [
      "step training, killed mid-pass",
      { training_type: "step", iterations: 40, eval_frequency: 4, save_frequency: 2, batch_size: 8 },
      2,
      crashAt(27, "onStep"),
      "CELoss",
    ],
  ] as const) {
    it(`an interrupted and resumed run equals one that ran straight through (${label})`, async () => {
      const config = rescoredRun(overrides as Record<string, unknown>, every, score);
      const { straight, crashed } = await straightAndResumed(config, crash, freshDir);
      expect(readFileSync(join(crashed, "training.log"), "utf8")).toContain("Resuming");
      expect((readScoreDrift(straight) ?? []).length).toBeGreaterThan(1);
      expect(differingFiles(straight, crashed)).toEqual([]);
    });
  }
});
