import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildForRun } from "../../src/assembly/train-run.js";
import { initEngine, loadNetwork } from "../../src/engine/index.js";
import { readRunConfig } from "../../src/results/run-folder.js";
import { TransferTeacher } from "../../src/scoring/functions/transfer-teacher.js";
import {
  kmeans,
  kmeansPlusPlus,
  nearestDistances,
  representativeness,
  uniqueness,
} from "../../src/scoring/math/brain.js";
import { mistakenness, softmaxEntropy } from "../../src/training/measures/logits.js";
import { loadNpy } from "../../src/util/npy.js";
import { Rng } from "../../src/util/rng.js";
import { expectCloseTo } from "../support/assert.js";
import { numpyScipy, python } from "../support/python.js";
import { describeWith } from "../support/system.js";
import { executeScore, scoreColumn, scoreManagerConfig, trainDigitsRuns } from "./fixture.js";

/**
 * FiftyOne Brain's measures Uniqueness and Representativeness against numpy implementations of the
 * definitions in voxel51/fiftyone-brain (`internal/core/{uniqueness,representativeness}.py`; Hardness
 * and Mistakenness are test/training/measures.test.ts), then all four as scoring functions on
 * trained Digits runs (ensembles and the reversed rank of Representativeness).
 */

const UNIQUENESS = `
import json, sys
import numpy as np
data = json.loads(sys.stdin.read())
x = np.array(data["x"], dtype=np.float64)
d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2))
np.fill_diagonal(d, np.inf)
dists = np.sort(d, axis=1)[:, :3]
u = np.mean(dists * [0.6, 0.3, 0.1], axis=1)
u /= u.max()
print(json.dumps({"dists": dists.tolist(), "uniqueness": u.tolist()}))
`;

const KMEANS = `
import json, sys
import numpy as np
data = json.loads(sys.stdin.read())
x = np.array(data["x"], dtype=np.float64)
centres = x[np.array(data["init"])].copy()
labels = np.full(len(x), -1)
for _ in range(300):
    new = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    if (new == labels).all():
        break
    labels = new
    for c in range(len(centres)):
        if (labels == c).any():
            centres[c] = x[labels == c].mean(axis=0)
dist = np.linalg.norm(x - centres[labels], axis=1)
rep = np.empty(len(x))
for c in np.unique(labels):
    idx = labels == c
    top = dist[idx].max()
    rep[idx] = 1.0 - dist[idx] / top if top > 0 else 1.0
print(json.dumps({"labels": labels.tolist(), "representativeness": rep.tolist()}))
`;

/** Clustered points: `groups` blobs of `size` points in `d` dimensions, plus two exact duplicates. */
function blobs(rng: Rng, groups: number, size: number, d: number): Float32Array {
  const x = new Float32Array((groups * size + 2) * d);
  for (let g = 0; g < groups; g++) {
    const centre = Array.from({ length: d }, () => rng.normal() * 6);
    for (let s = 0; s < size; s++)
      for (let t = 0; t < d; t++) x[(g * size + s) * d + t] = (centre[t] as number) + rng.normal();
  }
  x.copyWithin(groups * size * d, 0, 2 * d);
  return x;
}

const toRows = (x: ArrayLike<number>, d: number) =>
  Array.from({ length: x.length / d }, (_, i) => Array.from(x).slice(i * d, (i + 1) * d));

describeWith(numpyScipy, "FiftyOne Brain's measures equal numpy on the same numbers", () => {
  it("uniqueness: the three nearest distances weighted 0.6/0.3/0.1, over the maximum; exact and tiled paths agree", () => {
    const rng = new Rng(5);
    const d = 6;
    const x = blobs(rng, 4, 12, d);
    const n = x.length / d;
    const ref = python<{ dists: number[][]; uniqueness: number[] }>(
      UNIQUENESS,
      [],
      JSON.stringify({ x: toRows(x, d) }),
    );
    const exact = nearestDistances(x, n, d, 3);
    // A float32 product as the engine gives it: the tiled path re-measures its candidates exactly.
    const dot = (a: Float32Array, ra: number, b: Float32Array, rb: number, dim: number) => {
      const out = new Float32Array(ra * rb);
      for (let i = 0; i < ra; i++)
        for (let j = 0; j < rb; j++) {
          let s = 0;
          for (let t = 0; t < dim; t++) s += (a[i * dim + t] as number) * (b[j * dim + t] as number);
          out[i * rb + j] = s;
        }
      return out;
    };
    const tiled = nearestDistances(x, n, d, 3, dot);
    expect(ref.dists).toHaveLength(n);
    for (const row of ref.dists) expect(row).toHaveLength(3);
    expectCloseTo(exact, ref.dists.flat(), 9, "exact distances");
    expectCloseTo(tiled, ref.dists.flat(), 9, "tiled distances");
    const u = uniqueness(exact, n);
    expect(ref.uniqueness).toHaveLength(n);
    expectCloseTo(u, ref.uniqueness, 10, "uniqueness");
    expect(Math.max(...u)).toBe(1);
    expect(Array.from(uniqueness(new Float64Array(9), 3))).toEqual([1, 1, 1]);
  });

  it("k-means from the seeded k-means++ centres equals numpy's Lloyd iterations, and representativeness its closeness", () => {
    const rng = new Rng(7);
    const d = 4;
    const x = blobs(rng, 5, 15, d);
    const n = x.length / d;
    const init = kmeansPlusPlus(x, n, d, 5, new Rng(11));
    expect(Array.from(kmeansPlusPlus(x, n, d, 5, new Rng(11)))).toEqual(Array.from(init));
    const clusters = kmeans(x, n, d, init);
    const ref = python<{ labels: number[]; representativeness: number[] }>(
      KMEANS,
      [],
      JSON.stringify({ x: toRows(x, d), init: Array.from(init) }),
    );
    expect(Array.from(clusters.labels)).toEqual(ref.labels);
    const rep = representativeness(x, n, d, clusters);
    expect(ref.representativeness).toHaveLength(n);
    expectCloseTo(rep, ref.representativeness, 9, "representativeness");
    // Every cluster of more than one member has a farthest member at 0 (the five blobs of 15 give five).
    const minima = Array.from({ length: 5 }, (_, c) =>
      Array.from(rep).filter((_, i) => clusters.labels[i] === c),
    )
      .filter((members) => members.length > 1)
      .map((members) => Math.min(...members));
    expect(minima).toEqual([0, 0, 0, 0, 0]);
  });
});

describe("FiftyOne Brain's measures as scoring functions", () => {
  let resultsDir: string;
  let runs: string[];

  beforeAll(async () => {
    ({ resultsDir, runs } = await trainDigitsRuns(["1-1", "2-1"]));
  });
  afterAll(() => {
    rmSync(resultsDir, { recursive: true, force: true });
  });

  const execute = (scoring: Record<string, unknown>) =>
    executeScore(scoreManagerConfig(resultsDir, scoring, { robustness: { bootstrap: 50, seed: 3 } }));

  it("Hardness and Mistakenness of a 2-seed ensemble average the runs' values from their saved _best outputs", async () => {
    const perRun = runs.map((r) => {
      const dir = join(resultsDir, "default", "training", r, "_best");
      const logits = loadNpy(join(dir, "train_outputs.npy"));
      const targets = loadNpy(join(dir, "train_targets.npy")).data as Int32Array;
      const [n, c] = logits.shape as [number, number];
      return {
        hardness: softmaxEntropy(logits.data as Float32Array, n, c),
        mistakenness: mistakenness(logits.data as Float32Array, targets, c),
      };
    });
    for (const name of ["Hardness", "Mistakenness"] as const) {
      const { rows, card, atomic } = await execute({ id: name, type: name, run_name: runs });
      expect(atomic).toHaveLength(2);
      const mean = scoreColumn(rows, "mean");
      const key = name === "Hardness" ? "hardness" : "mistakenness";
      const first = perRun[0]?.[key] as Float64Array;
      const second = perRun[1]?.[key] as Float64Array;
      expectCloseTo(
        mean,
        Array.from(first, (v, i) => (v + (second[i] as number)) / 2),
        5,
        `${name} mean`,
      );
      // High is hard: the largest mean has rank 1.
      const ranks = scoreColumn(rows, "ranks");
      expect(mean[ranks.indexOf(1)]).toBe(Math.max(...mean));
      expect(String(card.reference)).toMatch(/FiftyOne/);
      expect(card.robustness).toMatchObject({ runs: 2, pairs: 1 });
    }
  });

  it("Uniqueness and Representativeness measure the penultimate layer; a typical sample ranks easy", async () => {
    const uniq = await execute({ id: "Uniqueness", type: "Uniqueness", run_name: runs[0] });
    const u = scoreColumn(uniq.rows, "mean");
    expect(Math.max(...u)).toBe(1);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    const rep = await execute({
      id: "Representativeness",
      type: "Representativeness",
      run_name: runs[0],
      clusters: 10,
    });
    const r = scoreColumn(rep.rows, "mean");
    const ranks = scoreColumn(rep.rows, "ranks");
    expect(r[ranks.indexOf(0)]).toBe(Math.max(...r));
    expect(r[ranks.indexOf(1)]).toBe(Math.min(...r));
    // The embedding is the FFNN's hidden layer (16 units), not the input (64 pixels): the same
    // values from the hidden activations of the saved model, computed here.
    const runDir = join(resultsDir, "default", "training", runs[0] as string);
    const { dataset } = await buildForRun(readRunConfig(runDir));
    const train = dataset.subset("train");
    await initEngine();
    const network = await loadNetwork(join(runDir, "_best"), null);
    const layer = TransferTeacher.embeddingLayer(network);
    const positions = Int32Array.from({ length: train.size }, (_, i) => i);
    const hidden = network.forward(train.batch(positions).x, train.size, [layer]).layers[layer]?.data;
    network.dispose();
    if (!hidden) throw new Error(`no layer ${layer}`);
    const dim = hidden.length / train.size;
    expect(dim).toBe(16);
    const want = uniqueness(nearestDistances(Float32Array.from(hidden), train.size, dim, 3), train.size);
    expect(u).toHaveLength(train.size);
    expectCloseTo(u, want, 5, "uniqueness of the hidden layer");
    await expect(
      execute({ id: "Uniqueness-bad", type: "Uniqueness", run_name: runs[0], embedding_layer: "nope" }),
    ).rejects.toThrow(/embedding_layer.*no layer 'nope'/);
  });
});
