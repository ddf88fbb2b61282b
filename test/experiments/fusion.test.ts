import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hardestPositions, readDifficultyScore } from "../../src/experiments/by-difficulty.js";
import { fuse } from "../../src/experiments/fusion.js";
import { postprocess } from "../../src/experiments/postprocess.js";
import { score } from "../../src/scoring/score.js";
import { readCsv } from "../../src/util/csv.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { trainDigitsRuns } from "../scoring/fixture.js";
import { runCli } from "../support/cli.js";
import { numpyScipy, python } from "../support/python.js";
import { describeWith } from "../support/system.js";

/** Late fusion and the difficulty-aware evaluation on four tiny Digits baseline seeds. */

let resultsDir: string;
let runs: string[];
let training: string;

beforeAll(async () => {
  ({ resultsDir, runs } = await trainDigitsRuns([1, 2, 3, 4]));
  training = join(resultsDir, "default", "training");
});

afterAll(() => {
  rmSync(resultsDir, { recursive: true, force: true });
});

/** Accuracy, UAR and macro F1 of the argmax of the mean softmax of the members' saved test logits. */
const FUSED = `
import json, os, sys
import numpy as np
dirs = json.loads(sys.argv[1])
probs, y = [], None
for d in dirs:
    z = np.load(os.path.join(d, "_test", "test_outputs.npy")).astype(np.float64)
    idx = np.load(os.path.join(d, "_test", "test_indices.npy")); t = np.load(os.path.join(d, "_test", "test_targets.npy"))
    zz = np.empty_like(z); zz[idx] = z; yy = np.empty_like(t); yy[idx] = t; y = yy
    e = np.exp(zz - zz.max(axis=1, keepdims=True)); probs.append(e / e.sum(axis=1, keepdims=True))
mean = np.mean(probs, axis=0); pred = mean.argmax(axis=1)
classes = np.unique(y)
uar = np.mean([(pred[y == c] == c).mean() for c in classes])
f1s = []
for c in np.union1d(y, pred):
    tp = ((pred == c) & (y == c)).sum(); p = (pred == c).sum(); a = (y == c).sum()
    prec = tp / p if p else 0.0; rec = tp / a if a else 0.0
    f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
print(json.dumps({"accuracy": float((pred == y).mean()), "uar": float(uar), "f1": float(np.mean(f1s)), "mean": mean.ravel().tolist()}))
`;

describe("late fusion", () => {
  describeWith(numpyScipy, "against numpy", () => {
    it("the fused accuracy, UAR and F1 equal numpy's argmax of the mean softmax of the members' test outputs", async () => {
      const members = [runs[0], runs[2]] as string[];
      const result = await fuse(resultsDir, "default", members, { id: "pair" });
      const ref = python<{ accuracy: number; uar: number; f1: number; mean: number[] }>(FUSED, [
        JSON.stringify(members.map((r) => join(training, r))),
      ]);
      expect(result.metrics.accuracy).toBeCloseTo(ref.accuracy, 12);
      expect(result.metrics.uar).toBeCloseTo(ref.uar, 12);
      expect(result.metrics.f1).toBeCloseTo(ref.f1, 12);
      const holistic = readYaml<Record<string, { all: number }>>(join(result.dir, "test_holistic.yaml"));
      expect(holistic.accuracy?.all).toBe(result.metrics.accuracy);
      const { loadNpy } = await import("../../src/util/npy.js");
      const saved = loadNpy(join(result.dir, "test_probabilities.npy")).data;
      expect(saved.length).toBe(ref.mean.length);
      for (let j = 0; j < saved.length; j += 37) expect(saved[j]).toBeCloseTo(ref.mean[j] as number, 6);
      // the equal-size baseline ensemble: the first two baseline seeds
      expect(result.baseline).toMatchObject({ size: 2, members: [runs[0], runs[1]] });
      const fusion = readYaml<Record<string, unknown>>(join(result.dir, "fusion.yaml"));
      expect(fusion.members).toEqual(members);
      // a single member's "ensemble" is that run's own test accuracy
      const own = readYaml<Record<string, { all: number }>>(
        join(training, runs[2] as string, "_test", "test_holistic.yaml"),
      );
      expect(result.single[runs[2] as string]?.accuracy).toBeCloseTo(own.accuracy?.all as number, 12);
    });
  });

  it("an aggregated name expands to its seeds; duplicates are fused once", async () => {
    const aggregated = (runs[0] as string).replace(/_1$/, "_#");
    const result = await fuse(resultsDir, "default", [aggregated]);
    expect(result.id).toBe("late-fusion");
    expect(result.members).toEqual(runs);
    expect(result.baseline).toMatchObject({ size: 4, members: runs });
    const five = await fuse(resultsDir, "default", [aggregated, runs[0] as string], { id: "dup" });
    expect(five.members).toHaveLength(4); // duplicates are fused once
  });

  it("errors name the missing run or file; the CLI prints the folder and exits 1 on errors", async () => {
    await expect(fuse(resultsDir, "default", ["nope"])).rejects.toThrow(/Run nope does not exist/);
    await expect(fuse(resultsDir, "default", [runs[0] as string], { id: "a/b" })).rejects.toThrow(/--id/);
    const ok = runCli(
      ["fuse", resultsDir, "default", runs[1] as string, runs[3] as string, "--id", "cli"],
      resultsDir,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(join("default", "fusion", "cli"));
    expect(ok.stderr).toMatch(/fused 2 run\(s\): accuracy/);
    const bad = runCli(["fuse", resultsDir, "default", "missing-run"], resultsDir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/missing-run/);
  });
});

describe("difficulty-aware evaluation", () => {
  it("metrics on the hardest 10/25/50/100% of the test subset by a test-subset score", async () => {
    await score({
      overrides: [
        "curriculum/scoring=CELoss",
        `curriculum.scoring.run_name=${runs[0]}`,
        "curriculum.scoring.subset=test",
        "curriculum.scoring.id=CELoss-test",
        `results_dir=${resultsDir}`,
        "experiment_id=default",
        "plots=false",
        "correlation=null",
        "progress_bar=false",
      ],
      log: () => {},
    });
    await postprocess(resultsDir, "default", { difficulty: ["CELoss-test"], log: null, renderPlot: null });
    const path = join(resultsDir, "default", "summary", "difficulty.csv");
    const { columns, rows } = readCsv(path);
    expect(columns).toEqual(["run_name", "score", "subset", "hardest", "samples", "accuracy", "uar", "f1"]);
    expect(rows).toHaveLength(4 * runs.length);
    const scoreFile = readDifficultyScore(resultsDir, "default", "CELoss-test");
    const n = scoreFile.ranks.length;
    for (const run of runs) {
      const mine = rows.filter((r) => r.run_name === run);
      expect(mine.map((r) => Number(r.hardest))).toEqual([0.1, 0.25, 0.5, 1]);
      expect(mine.map((r) => Number(r.samples))).toEqual([
        Math.ceil(0.1 * n),
        Math.ceil(0.25 * n),
        Math.ceil(0.5 * n),
        n,
      ]);
      const holistic = readYaml<Record<string, { all: number }>>(
        join(training, run, "_test", "test_holistic.yaml"),
      );
      expect(Number(mine[3]?.accuracy)).toBeCloseTo(holistic.accuracy?.all as number, 12);
    }
    // the scoring run is worst on its own hardest samples: its highest losses are mostly errors
    const own = rows.filter((r) => r.run_name === runs[0]).map((r) => Number(r.accuracy));
    expect(own[0]).toBeLessThan(own[3] as number);
    const hardest = hardestPositions(scoreFile.ranks, 0.1);
    expect(Math.min(...Array.from(hardest, (p) => scoreFile.ranks[p] as number))).toBeGreaterThan(0.89);
  });

  it("a score of another split is refused, naming both files", async () => {
    // Digits split with another split_seed: the same samples, other test rows.
    const conf = join(resultsDir, "conf");
    mkdirSync(join(conf, "dataset"), { recursive: true });
    writeFileSync(
      join(conf, "dataset", "Digits7.yaml"),
      "id: Digits\ntype: Digits\nshape: flat\ndev_split: 0.2\ntest_split: 0.2\nsplit_seed: 7\n",
    );
    await score({
      configPath: conf,
      overrides: [
        "curriculum/scoring=Random",
        "curriculum.scoring.dataset=Digits7",
        "curriculum.scoring.subset=test",
        "curriculum.scoring.id=Random-test7",
        `results_dir=${resultsDir}`,
        "experiment_id=default",
        "plots=false",
        "correlation=null",
        "progress_bar=false",
      ],
      log: () => {},
    });
    await expect(
      postprocess(resultsDir, "default", { difficulty: ["Random-test7"], log: null, renderPlot: null }),
    ).rejects.toThrow(/test_targets\.npy: position \d+ has label \d+, but .*Random-test7\.csv/);
    await expect(
      postprocess(resultsDir, "default", { difficulty: ["Nope"], log: null, renderPlot: null }),
    ).rejects.toThrow(/difficulty: no score file 'Nope\.csv'/);
    expect(existsSync(join(resultsDir, "default", "summary"))).toBe(true);
    expect(readFileSync(join(resultsDir, "default", "summary", "difficulty.csv"), "utf8")).toMatch(
      /CELoss-test/,
    );
  });
});
