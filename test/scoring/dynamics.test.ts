import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildForRun } from "../../src/assembly/train-run.js";
import { readRunConfig } from "../../src/results/run-folder.js";
import { readScoreRows } from "../../src/results/score-table.js";
import { CurriculumScoreManager } from "../../src/scoring/manager.js";
import { bootstrapResamples, disjointPairs, resampledMeanSpearman } from "../../src/scoring/robustness.js";
import { saveNpy } from "../../src/util/npy.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { expectCloseTo } from "../support/assert.js";
import { numpyScipy, python } from "../support/python.js";
import { describeWith } from "../support/system.js";
import { executeScore, scoreColumn, scoreManagerConfig, trainDigitsRuns } from "./fixture.js";

/**
 * The training-dynamics scores, their seed robustness and ConfidentLearning against from-scratch
 * numpy/scipy computations on the files a small run saved (epoch_N/train_outputs.npy, model.json +
 * weights.bin, the atomic runs' scores.csv).
 */

let resultsDir: string;
let runs: string[];
let trainingDir: string;

beforeAll(async () => {
  ({ resultsDir, runs } = await trainDigitsRuns(["1-1", "2-1", "3-1"]));
  trainingDir = join(resultsDir, "default", "training");
});

afterAll(() => {
  rmSync(resultsDir, { recursive: true, force: true });
});

const managerConfig = (scoring: Record<string, unknown>) =>
  scoreManagerConfig(resultsDir, scoring, { plots: true, robustness: { bootstrap: 200, seed: 3 } });

const execute = (scoring: Record<string, unknown>) => executeScore(managerConfig(scoring));

/** numpy reference of every dynamics score from the saved per-evaluation outputs of each run. */
const DYNAMICS = String.raw`
import json, os, sys
import numpy as np
run_dirs = json.loads(sys.argv[1]); stop = sys.argv[2]
def ordered(d, name):
    out = np.load(os.path.join(d, name + "_outputs.npy")).astype(np.float64)
    idx = np.load(os.path.join(d, name + "_indices.npy"))
    tgt = np.load(os.path.join(d, name + "_targets.npy"))
    z = np.empty_like(out); z[idx] = out
    y = np.empty_like(tgt); y[idx] = tgt
    return z, y
def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True)); return e / e.sum(axis=1, keepdims=True)
res = {"aum": [], "forgetting": [], "confidence": [], "variability": [], "correctness": [], "el2n": []}
for d in run_dirs:
    its = sorted(int(e.split("_")[1]) for e in os.listdir(d) if e.startswith("epoch_"))
    if stop == "best":
        import re
        best = int(re.search(r"iteration: (\d+)", open(os.path.join(d, "_best", "dev.yaml")).read()).group(1))
        its = [i for i in its if i <= best]
    zs, y = [], None
    for i in its:
        z, y = ordered(os.path.join(d, "epoch_%d" % i), "train"); zs.append(z)
    Z = np.stack(zs)                              # T x N x C
    T, N, C = Z.shape
    zy = Z[:, np.arange(N), y]
    other = np.where(np.arange(C)[None, None, :] == y[None, :, None], -np.inf, Z).max(axis=2)
    res["aum"].append((zy - other).mean(axis=0).tolist())
    correct = Z.argmax(axis=2) == y[None, :]
    events = (correct[:-1] & ~correct[1:]).sum(axis=0).astype(float)
    events[~correct.any(axis=0)] = T
    res["forgetting"].append(events.tolist())
    P = np.stack([softmax(z) for z in zs]); py = P[:, np.arange(N), y]
    res["confidence"].append(py.mean(axis=0).tolist())
    res["variability"].append(py.std(axis=0).tolist())
    res["correctness"].append(correct.mean(axis=0).tolist())
    onehot = np.eye(C)[y]
    res["el2n"].append(np.linalg.norm(P[0] - onehot, axis=1).tolist())
print(json.dumps(res))
`;

/** numpy forward of the saved FFNN (model.safetensors, PyTorch layout) and the explicit last-layer gradient. */
const GRAND = `
import json, os, struct, sys
import numpy as np
model_dir, x_path, y_path = sys.argv[1:4]
raw = open(os.path.join(model_dir, "model.safetensors"), "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
w = {}
for name, e in header.items():
    if name == "__metadata__": continue
    start, end = e["data_offsets"]
    w[name] = np.frombuffer(raw[8 + n + start:8 + n + end], dtype="<f4").reshape(e["shape"]).astype(np.float64)
x = np.load(x_path).astype(np.float64); y = np.load(y_path)
h = np.maximum(x @ w["linear0.weight"].T + w["linear0.bias"], 0)
z = h @ w["linear1.weight"].T + w["linear1.bias"]
p = np.exp(z - z.max(axis=1, keepdims=True)); p /= p.sum(axis=1, keepdims=True)
g = p - np.eye(z.shape[1])[y]
# the gradient of the cross-entropy w.r.t. weight (g outer h) and bias (g), flattened together
norms = [float(np.sqrt((np.outer(g[i], h[i]) ** 2).sum() + (g[i] ** 2).sum())) for i in range(len(y))]
print(json.dumps({"grand": norms, "logits": z.tolist()}))
`;

/** scipy's Spearman and Kendall over the per-run score files, oriented hard-is-high. */
const ROBUSTNESS = `
import csv, json, sys, itertools
import numpy as np
from scipy import stats
files = json.loads(sys.argv[1]); col = sys.argv[2]; sign = float(sys.argv[3])
runs = []
for f in files:
    rows = sorted(csv.DictReader(open(f)), key=lambda r: int(r["index"]))
    runs.append(sign * np.array([float(r[col]) for r in rows]))
pairs = list(itertools.combinations(range(len(runs)), 2))
sp = [stats.spearmanr(runs[i], runs[j]).statistic for i, j in pairs]
kt = [stats.kendalltau(runs[i], runs[j]).statistic for i, j in pairs]
print(json.dumps({"spearman": float(np.mean(sp)), "kendall": float(np.mean(kt)), "pairs": len(pairs)}))
`;

describeWith(numpyScipy, "training-dynamics scores agree with numpy on saved outputs", () => {
  const dynamicsRef = (stop: string) =>
    python<Record<string, number[][]>>(DYNAMICS, [
      JSON.stringify(runs.map((r) => join(trainingDir, r))),
      stop,
    ]);
  const mean = (perRun: number[][]) =>
    (perRun[0] as number[]).map((_, i) => perRun.reduce((s, r) => s + (r[i] as number), 0) / perRun.length);

  it("AUM: per-run margins and the 3-seed ensemble (stop: last); low AUM ranks hard", async () => {
    const ref = dynamicsRef("last");
    const { rows, atomic, card, dir } = await execute({
      id: "AUM",
      type: "AUM",
      run_name: runs,
      stop: "last",
    });
    expect(atomic.map((a) => a.name)).toEqual(runs.map((r) => `${r}_l`));
    const aum = scoreColumn(rows, "aum");
    expectCloseTo(aum, mean(ref.aum as number[][]), 5, "aum");
    expect(scoreColumn(rows, "mean")).toEqual(aum);
    const ranks = scoreColumn(rows, "ranks");
    expect(aum[ranks.indexOf(1)]).toBe(Math.min(...aum));
    const perRun = readScoreRows(join(dir, `${runs[1]}_l`, "scores.csv"));
    expectCloseTo(perRun.columns.get("aum"), (ref.aum as number[][])[1] as number[], 5, "per-run aum");
    expect(card.reference).toMatch(/Pleiss/);
  });

  it("Forgetting, Cartography and EL2N equal numpy (stop: best limits the evaluations)", async () => {
    const ref = dynamicsRef("best");
    const forgetting = await execute({ id: "Forgetting", type: "Forgetting", run_name: runs });
    expectCloseTo(scoreColumn(forgetting.rows, "mean"), mean(ref.forgetting as number[][]), 12, "forgetting");
    const carto = await execute({ id: "Cartography", type: "Cartography", run_name: runs });
    for (const c of ["confidence", "variability", "correctness"]) {
      expectCloseTo(scoreColumn(carto.rows, c), mean(ref[c] as number[][]), 6, c);
    }
    const region = carto.rows.text?.get("region") as string[];
    const conf = scoreColumn(carto.rows, "confidence");
    const vari = scoreColumn(carto.rows, "variability");
    const expectedRegions = conf.map((c, i) =>
      (vari[i] as number) >= 0.2 ? "ambiguous" : c >= 0.5 ? "easy-to-learn" : "hard-to-learn",
    );
    expect(region).toHaveLength((ref.confidence as number[][])[0]?.length as number);
    expect(region).toEqual(expectedRegions);
    const regions = carto.card.regions as Record<string, number>;
    expect(Object.values(regions).reduce((a, b) => a + b, 0)).toBe(conf.length);
    expect(carto.result.plots.some((p) => p.endsWith("data_map"))).toBe(true);
    expect(existsSync(join(carto.dir, "_plots", "Cartography", "data_map.svg"))).toBe(true);
    expect(readFileSync(carto.result.scoreFile, "utf8").split("\n")[0]).toBe(
      "index,source_index,confidence,variability,correctness,region,mean,ranks,encoded,decoded",
    );
    const el2n = await execute({ id: "EL2N", type: "EL2N", run_name: runs });
    expectCloseTo(scoreColumn(el2n.rows, "el2n"), mean(ref.el2n as number[][]), 6, "el2n");
    expect(el2n.card.iteration).toEqual([1, 1, 1]);
  });

  it("EL2N at a chosen iteration, and an iteration that was never evaluated is an error naming it", async () => {
    const { atomic, card } = await execute({
      id: "EL2N-2",
      type: "EL2N",
      run_name: runs[0],
      stop: "last",
      iteration: 2,
    });
    expect(atomic[0]?.name).toBe(`${runs[0]}_l_2`);
    expect(card.iteration).toEqual([2]);
    await expect(
      execute({ id: "EL2N-9", type: "EL2N", run_name: runs[0], stop: "last", iteration: 9 }),
    ).rejects.toThrow(/curriculum\.scoring\.iteration: no evaluated iteration 9 .*expected one of 1, 2, 3/);
  });

  it("GraNd equals the norm of the explicit last-layer gradient of a numpy forward of the saved model", async () => {
    const runDir = join(trainingDir, runs[0] as string);
    const { dataset } = await buildForRun(readRunConfig(runDir));
    const train = dataset.subset("train");
    const batch = train.batch(Int32Array.from({ length: train.size }, (_, i) => i));
    const x = join(resultsDir, "x.npy");
    const y = join(resultsDir, "y.npy");
    saveNpy(x, batch.x, [train.size, batch.x.length / train.size]);
    saveNpy(y, batch.y, [train.size]);
    const ref = python<{ grand: number[]; logits: number[][] }>(GRAND, [join(runDir, "epoch_1"), x, y]);
    // the numpy forward reproduces the logits the trainer saved at that evaluation
    const saved = (await import("../../src/util/npy.js")).loadNpy(
      join(runDir, "epoch_1", "train_outputs.npy"),
    );
    const indices = (await import("../../src/util/npy.js")).loadNpy(
      join(runDir, "epoch_1", "train_indices.npy"),
    ).data;
    expect(indices.length).toBe(train.size);
    for (let r = 0; r < indices.length; r += 97) {
      const row = ref.logits[indices[r] as number] as number[];
      for (let k = 0; k < 10; k++) expect(saved.data[r * 10 + k]).toBeCloseTo(row[k] as number, 4);
    }
    const { rows, card } = await execute({ id: "GraNd", type: "GraNd", run_name: runs[0] });
    expect(card.iteration).toEqual([1]);
    const grand = scoreColumn(rows, "grand");
    expectCloseTo(grand, ref.grand, 4, "grand");
  });

  it("robustness equals scipy's mean pairwise Spearman and Kendall over the per-run score files", async () => {
    const checks: [string, string, string, number][] = [
      ["AUM", "AUM", "aum", -1],
      ["Forgetting", "Forgetting", "forgetting", 1],
      ["EL2N", "EL2N", "el2n", 1],
    ];
    for (const [type, id, col, sign] of checks) {
      const dir = join(resultsDir, "default", "curriculum", type);
      const card = readYaml<{ robustness: Record<string, unknown>; runs: string[] }>(join(dir, `${id}.yaml`));
      const files = card.runs.map((r) => join(dir, r, "scores.csv"));
      const ref = python<{ spearman: number; kendall: number; pairs: number }>(ROBUSTNESS, [
        JSON.stringify(files),
        col,
        String(sign),
      ]);
      const rob = card.robustness;
      expect(rob.spearman_mean, id).toBeCloseTo(ref.spearman, 12);
      expect(rob.kendall_mean, id).toBeCloseTo(ref.kendall, 12);
      expect(rob.pairs).toBe(3);
      const [lo, hi] = rob.spearman_ci95 as [number, number];
      expect(lo).toBeLessThan(rob.spearman_mean as number);
      expect(hi).toBeGreaterThan(rob.spearman_mean as number);
      const curve = readFileSync(join(dir, "_robustness", `${id}_ensemble_size.csv`), "utf8")
        .trim()
        .split("\n");
      expect(curve[0]).toBe("k,pairs,spearman_mean,spearman_std");
      // three runs: one size (k = 1) with the three disjoint pairs, i.e. the pairwise correlations
      const [k, pairs, m] = (curve[1] as string).split(",").map(Number);
      expect([k, pairs]).toEqual([1, 3]);
      expect(m).toBeCloseTo(ref.spearman, 12);
    }
  });

  it("the bootstrap's resampled Spearman equals scipy on the materialised resamples", () => {
    const n = 50;
    const a = Float64Array.from({ length: n }, (_, i) => Math.round(Math.sin(i) * 5)); // many ties
    const b = Float64Array.from({ length: n }, (_, i) => (i * 7) % 11);
    const c = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 3));
    const resamples = [...bootstrapResamples(n, 5, 1)].map((w) => Int32Array.from(w));
    const ours = resampledMeanSpearman([a, b, c], resamples);
    const indices = resamples.map((w) => Array.from(w).flatMap((count, i) => Array(count).fill(i)));
    const ref = python<number[]>(
      `
import json, sys, itertools
import numpy as np
from scipy import stats
cols = [np.array(c) for c in json.loads(sys.argv[1])]
out = []
for idx in json.loads(sys.argv[2]):
    s = [stats.spearmanr(cols[i][idx], cols[j][idx]).statistic for i, j in itertools.combinations(range(3), 2)]
    out.append(float(np.mean(s)))
print(json.dumps(out))`,
      [JSON.stringify([a, b, c].map((x) => Array.from(x))), JSON.stringify(indices)],
    );
    expectCloseTo(ours, ref, 12, "resampled Spearman");
  });

  it("ConfidentLearning reuses a CVLoss score's folds: p_y = exp(−CVLoss) and the confident joint equals numpy", async () => {
    const setup = {
      dataset: "Digits",
      model: "FFNN",
      optimizer: "Adam",
      learning_rate: 0.01,
      seed: "1-1",
      batch_size: 32,
      iterations: 2,
    };
    const cv = await execute({ id: "CVLoss", type: "CVLoss", splits: 3, setup });
    // filter_by confident_learning: label_issue is the off-diagonal of the confident joint
    const cl = await execute({
      id: "ConfidentLearning",
      type: "ConfidentLearning",
      cvloss: "CVLoss",
      filter_by: "confident_learning",
    });
    expect(cl.atomic.map((a) => a.name)).toEqual(cv.atomic.map((a) => a.name));
    const loss = scoreColumn(cv.rows, "mean");
    const self = scoreColumn(cl.rows, "mean");
    expectCloseTo(
      self,
      loss.map((l) => Math.exp(-l)),
      5,
      "p_y",
    );
    const probs = Array.from({ length: 10 }, (_, k) => scoreColumn(cl.rows, `p_${k}`));
    const labels = Array.from(cl.rows.encoded);
    const ref = python<{ issues: boolean[]; thresholds: number[] }>(
      `
import json, sys
import numpy as np
data = json.load(sys.stdin)
p = np.array(data["probs"]).T; y = np.array(data["labels"])
t = np.array([p[y == j, j].mean() for j in range(p.shape[1])])
clears = p >= t[None, :]
masked = np.where(clears, p, -np.inf)
assigned = np.where(clears.any(axis=1), masked.argmax(axis=1), -1)
print(json.dumps({"issues": ((assigned >= 0) & (assigned != y)).tolist(), "thresholds": t.tolist()}))`,
      [],
      JSON.stringify({ probs, labels }),
    );
    expect(cl.rows.text?.get("label_issue")).toEqual(ref.issues.map(String));
    expect(cl.card.label_issues).toBe(ref.issues.filter(Boolean).length);
    expect(cl.card.filter_by).toBe("confident_learning");
    expectCloseTo(
      Object.values(cl.card.thresholds as Record<string, number>),
      ref.thresholds,
      12,
      "thresholds",
    );
    // a single setup point: one run, so no robustness entry
    expect(cl.card.robustness).toBeUndefined();
  });

  it("ConfidentLearning trains its own folds from a setup, and needs exactly one of cvloss and setup", async () => {
    const setup = {
      dataset: "Digits",
      model: "FFNN",
      optimizer: "Adam",
      learning_rate: 0.01,
      seed: ["1-1", "2-1"],
      batch_size: 32,
      iterations: 1,
    };
    const cl = await execute({ id: "CL-own", type: "ConfidentLearning", splits: 2, setup });
    expect(cl.atomic).toHaveLength(4);
    expect(existsSync(join(cl.dir, cl.atomic[0]?.name as string, "metrics.csv"))).toBe(true);
    expect(cl.card.robustness).toMatchObject({ pairs: 1, runs: 2 });
    await expect(
      CurriculumScoreManager.create(managerConfig({ id: "CL", type: "ConfidentLearning" })),
    ).rejects.toThrow(/curriculum\.scoring\.cvloss: required value missing/);
    await expect(
      CurriculumScoreManager.create(
        managerConfig({ id: "CL", type: "ConfidentLearning", cvloss: "X", setup }),
      ),
    ).rejects.toThrow(/not both/);
    await expect(execute({ id: "CL-none", type: "ConfidentLearning", cvloss: "Nope" })).rejects.toThrow(
      /no CVLoss score 'Nope'/,
    );
  });

  it("sub-ensemble pairs are disjoint, unordered and capped", () => {
    const all = disjointPairs(4, 2, 100, 0);
    expect(all).toHaveLength(3);
    for (const [a, b] of all) expect(a.some((x) => b.includes(x))).toBe(false);
    expect(disjointPairs(10, 5, 20, 0)).toHaveLength(20);
    expect(disjointPairs(10, 5, 1000, 0)).toHaveLength(126);
  });
});
