import { describe, expect, it } from "vitest";
import { createDataset } from "../../src/data/index.js";
import type { ScoreRows } from "../../src/results/score-table.js";
import { labelNoiseCard } from "../../src/scoring/label-noise-card.js";
import { FILTER_BY_METHODS } from "../../src/scoring/math/label-issues.js";
import {
  auroc,
  averagePrecision,
  flagPrecisionRecall,
  noiseDetection,
  recallInHardest,
} from "../../src/scoring/math/noise-detection.js";
import { Rng } from "../../src/util/rng.js";
import { datasetConfig } from "../data/dataset-config.js";
import { numpyScipy, python } from "../support/python.js";
import { describeWith } from "../support/system.js";

/** numpy: average precision over distinct thresholds (sklearn's definition) and the pairwise AUROC. */
const REFERENCE = `
import json, sys
import numpy as np
h, y = (np.array(v) for v in json.load(sys.stdin))
y = y.astype(bool)
ap, prev = 0.0, 0.0
for t in np.unique(h)[::-1]:
    sel = h >= t
    recall = (sel & y).sum() / y.sum()
    ap += (recall - prev) * (sel & y).sum() / sel.sum()
    prev = recall
pos, neg = h[y], h[~y]
diff = pos[:, None] - neg[None, :]
auc = ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / (len(pos) * len(neg))
print(json.dumps({"ap": float(ap), "auroc": float(auc)}))
`;

describeWith(numpyScipy, "noise detection against numpy", () => {
  it("gives numpy's average precision and AUROC, with tied scores", () => {
    const rng = new Rng(3);
    const n = 300;
    const flipped = Array.from({ length: n }, () => rng.random() < 0.2);
    // tied, coarse scores that lean towards the flipped samples
    const hardness = flipped.map((f) => Math.round((rng.random() + (f ? 0.4 : 0)) * 8) / 8);
    const ref = python<{ ap: number; auroc: number }>(
      REFERENCE,
      [],
      JSON.stringify([hardness, flipped.map(Number)]),
    );
    expect(averagePrecision(hardness, flipped)).toBeCloseTo(ref.ap, 12);
    expect(auroc(hardness, flipped)).toBeCloseTo(ref.auroc, 12);
  });
});

describe("noise detection", () => {
  it("is perfect for a score that puts every flipped sample first, and recall counts the hardest ⌈f·N⌉", () => {
    const flipped = Array.from({ length: 200 }, (_, i) => i % 10 === 0);
    const mean = flipped.map((f, i) => (f ? 1 + i / 1000 : i / 1000));
    const ranks = mean.map((_, i) => i / 199);
    const d = noiseDetection(mean, false, mean, flipped);
    expect(d.average_precision).toBe(1);
    expect(d.auroc).toBe(1);
    expect(d.recall_hardest_10pct).toBe(1);
    expect(d.recall_hardest_5pct).toBe(0.5);
    expect(d.recall_hardest_1pct).toBe(0.1);
    // reversed: a high score is easy, so the flipped are found last
    expect(noiseDetection(mean, true, ranks, flipped).auroc).toBe(0);
    expect(recallInHardest([0.1, 0.9, 0.5], [false, true, false], 0.01)).toBe(1);
  });

  it("counts a flag's precision and recall", () => {
    expect(flagPrecisionRecall([true, true, false, false], [true, false, true, false])).toEqual({
      flagged: 2,
      precision: 0.5,
      recall: 0.5,
    });
  });

  it("the card finds the changed Digits samples by source index, label_issue included", async () => {
    const noise = { rate: 0.2, kind: "symmetric", seed: 2 };
    const dataset = datasetConfig("Digits", { label_noise: noise });
    const ds = await createDataset(dataset);
    const train = ds.subset("train");
    const changed = new Set(Array.from(ds.labelNoise?.positions ?? []));
    // rows in reverse position order, as a score table may hold them
    const positions = Array.from({ length: train.size }, (_, i) => train.size - 1 - i);
    const rows: ScoreRows = {
      index: Int32Array.from(positions),
      sourceIndex: Int32Array.from(positions, (p) => train.sourceIndex[p] as number),
      encoded: Int32Array.from(positions, (p) => train.labels[p] as number),
      decoded: positions.map((p) => String(train.labels[p])),
      columns: new Map(),
      text: new Map([
        ["label_issue", positions.map((p) => (changed.has(p) && p % 2 === 0 ? "true" : "false"))],
      ]),
    };
    const mean = Float64Array.from(positions, (p) => (changed.has(p) ? 0.1 : 0.9));
    const ranks = Float64Array.from(mean, (v) => 1 - v);
    const run = { name: "r", config: { dataset } };
    const card = await labelNoiseCard([run], "train", rows, mean, ranks, true);
    expect(card).toMatchObject({
      flipped: Math.floor(0.2 * train.size),
      average_precision: 1,
      auroc: 1,
      recall_hardest_10pct: Math.ceil(0.1 * train.size) / Math.floor(0.2 * train.size),
    });
    const issue = card?.label_issue as { precision: number; recall: number };
    expect(issue.precision).toBe(1);
    expect(issue.recall).toBeGreaterThan(0.3);
    expect(issue.recall).toBeLessThan(0.7);
    expect(await labelNoiseCard([run], "dev", rows, mean, ranks, true)).toBeNull();
    expect(
      await labelNoiseCard(
        [{ name: "c", config: { dataset: { ...dataset, label_noise: undefined } } }],
        "train",
        rows,
        mean,
        ranks,
        true,
      ),
    ).toBeNull();
  });

  it("the card gives every filter_by method's precision and recall when the rows carry probabilities", async () => {
    const noise = { rate: 0.2, kind: "symmetric", seed: 3 };
    const dataset = datasetConfig("Digits", { label_noise: noise });
    const ds = await createDataset(dataset);
    const train = ds.subset("train");
    const changed = new Set(Array.from(ds.labelNoise?.positions ?? []));
    const positions = Array.from({ length: train.size }, (_, i) => i);
    const given = positions.map((p) => train.labels[p] as number);
    // Held-out probabilities that put 0.9 on the given label, except on the changed samples, where
    // they put it on another class: predicted ≠ given flags exactly the changed samples.
    const c = 10;
    const columns = new Map<string, Float64Array>();
    for (let k = 0; k < c; k++) {
      columns.set(
        `p_${k}`,
        Float64Array.from(positions, (p, i) => {
          const top = changed.has(p) ? ((given[i] as number) + 1) % c : (given[i] as number);
          return k === top ? 0.9 : 0.1 / (c - 1);
        }),
      );
    }
    const rows: ScoreRows = {
      index: Int32Array.from(positions),
      sourceIndex: Int32Array.from(positions, (p) => train.sourceIndex[p] as number),
      encoded: Int32Array.from(given),
      decoded: given.map(String),
      columns,
    };
    const mean = Float64Array.from(positions, (p) => (changed.has(p) ? 0.9 : 0.1));
    const card = await labelNoiseCard([{ name: "r", config: { dataset } }], "train", rows, mean, mean, false);
    const methods = card?.filter_by as Record<string, { flagged: number; precision: number; recall: number }>;
    expect(Object.keys(methods).sort()).toEqual([...FILTER_BY_METHODS].sort());
    expect(methods.predicted_neq_given).toEqual({ flagged: changed.size, precision: 1, recall: 1 });
    for (const method of FILTER_BY_METHODS) {
      expect(methods[method]?.precision, method).toBe(1);
      expect(methods[method]?.recall, method).toBeGreaterThan(0.5);
    }
  });
});
