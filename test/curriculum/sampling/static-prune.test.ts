/**
 * StaticPrune on a Digits run with a score file: the kept positions against a numpy computation from
 * the score's ranks for each `drop`, samples_seen, the score's requirement, exact resume and
 * byte-identical reruns.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { trainRun } from "../../../src/assembly/train-run.js";
import { scoreFile } from "../../../src/config/layout.js";
import { runName } from "../../../src/config/naming.js";
import { StaticPrune } from "../../../src/curriculum/index.js";
import { readCsv, writeCsv } from "../../../src/util/csv.js";
import { Rng } from "../../../src/util/rng.js";
import { numpyScipy, python } from "../../support/python.js";
import { describeWith } from "../../support/system.js";
import { crashAt, differingFiles, digitsFfnnConfig } from "../../training/helpers.js";
import { composedSampler, dynamicRun, passSizes, quiet, samplingRoot, trainerStateAt } from "./helpers.js";

const { root, freshDir } = samplingRoot("static-prune");

const ITERATIONS = 3;
const SCORING = { id: "Fixed", type: "Fixed" };
function pruneRun(sampling: Record<string, unknown> = {}, scoring: Record<string, unknown> = SCORING) {
  const pruning = { id: "StaticPrune", short: "PR", keep: 0.7, drop: "easiest", ...sampling };
  return dynamicRun(root, "sp", ITERATIONS, pruning, { scoring });
}

/** numpy: the kept positions (ascending) for keep and drop, ties ordered by position. */
const NUMPY_KEPT = `
import json, sys
import numpy as np
d = json.load(sys.stdin)
r = np.asarray(d["ranks"], dtype=np.float64)
order = np.argsort(r, kind="stable")
n = r.size
count = int(np.floor(d["keep"] * n))
dropped = n - count
start = {"easiest": dropped, "hardest": 0, "both": dropped // 2}[d["drop"]]
print(json.dumps(np.sort(order[start:start + count]).tolist()))
`;

interface SavedState {
  sampler: { rng: number[]; sampler: { kept: number[] } };
}
const stateAt = (dir: string, e: number) => trainerStateAt<SavedState>(dir, e);

let ranks: number[];
beforeAll(async () => {
  // the training subset's source indices, from the start of a plain run
  let sourceIndex: number[] = [];
  const capture = {
    name: "capture",
    onTrainBegin: (ctx: { train: { sourceIndex: ArrayLike<number> } }) => {
      sourceIndex = Array.from(ctx.train.sourceIndex);
      throw new Error("captured");
    },
  };
  const plain = digitsFfnnConfig({
    engine: "wasm",
    results_dir: root,
    experiment_id: "plain",
    iterations: 1,
  });
  await expect(trainRun(plain, { runDir: freshDir(), ...quiet, callbacks: [capture] })).rejects.toThrow(
    /captured/,
  );
  expect(sourceIndex.length).toBeGreaterThan(1000);
  // ranks with ties (200 distinct values over ~1,079 samples), as a score file holds them
  const rng = new Rng(7);
  ranks = sourceIndex.map(() => Math.floor(rng.random() * 200));
  const path = scoreFile(root, "sp", SCORING);
  writeCsv(
    path,
    ["index", "source_index", "mean", "ranks"],
    ranks.map((r, i) => ({ index: i, source_index: sourceIndex[i], mean: r, ranks: r })),
  );
}, 60_000);

describeWith(numpyScipy, "StaticPrune on the ranks of a score", () => {
  for (const drop of ["easiest", "hardest", "both"] as const) {
    it(`drop=${drop}: every pass is numpy's kept set, samples_seen grows by its size`, async () => {
      const dir = freshDir();
      const lines: string[] = [];
      await trainRun(pruneRun({ drop }), { runDir: dir, log: (l) => lines.push(l), progress: false });
      const expected = python<number[]>(NUMPY_KEPT, [], JSON.stringify({ ranks, keep: 0.7, drop }));
      const n = ranks.length;
      expect(expected).toHaveLength(Math.floor(0.7 * n));
      for (let e = 1; e <= ITERATIONS; e++) expect(stateAt(dir, e).sampler.sampler.kept).toEqual(expected);
      expect(passSizes(lines)).toEqual(new Array(ITERATIONS).fill(expected.length));
      expect(lines).toContain(
        `curriculum: Dynamic, sampler StaticPrune(keep=0.7, drop="${drop}") with the Fixed score`,
      );
      const seen = readCsv(join(dir, "metrics.csv")).rows.map((r) => Number(r.samples_seen));
      expect(seen).toEqual([1, 2, 3].map((e) => e * expected.length));
    }, 120_000);
  }
});

it("an interrupted and resumed StaticPrune run, and a rerun with the same seed, equal the straight run byte for byte", async () => {
  const config = pruneRun({ drop: "both", keep: 0.5 });
  const straight = freshDir();
  await trainRun(config, { runDir: straight, ...quiet });
  const crashed = freshDir();
  await expect(trainRun(config, { runDir: crashed, ...quiet, callbacks: [crashAt(2)] })).rejects.toThrow(
    /simulated crash/,
  );
  await trainRun(config, { runDir: crashed, ...quiet });
  expect(readFileSync(join(crashed, "training.log"), "utf8")).toContain("Resuming");
  expect(differingFiles(straight, crashed)).toEqual([]);
  const again = freshDir();
  await trainRun(config, { runDir: again, ...quiet });
  expect(differingFiles(straight, again)).toEqual([]);
}, 180_000);

it("StaticPrune without a score is a clear error naming curriculum.scoring", async () => {
  await expect(
    trainRun(pruneRun({}, { id: "None", type: "None" }), { runDir: freshDir(), ...quiet }),
  ).rejects.toThrow(/curriculum\.scoring.*StaticPrune sampler needs a score/);
});

it("StaticPrune refuses a keep outside (0, 1] and an unknown drop", () => {
  expect(() => new StaticPrune({ keep: 0 })).toThrow(/keep must be in \(0, 1\], got 0/);
  expect(() => new StaticPrune({ drop: "middle" as never })).toThrow(
    /drop must be one of easiest, hardest, both/,
  );
});

it("the packaged StaticPrune composes with a score and no pacing, and the score names its run", async () => {
  const config = await composedSampler(root, "StaticPrune", ["curriculum/scoring=CELoss"]);
  expect(config.curriculum.sampling).toEqual({ id: "StaticPrune", short: "PR", keep: 0.7, drop: "easiest" });
  expect(config.curriculum.scoring).toEqual({ id: "CELoss", type: "CELoss" });
  expect(runName(config)).toContain("_D_PR_CELoss_None_1_0_");
});
