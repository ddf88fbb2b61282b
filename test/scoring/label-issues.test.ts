import { describe, expect, it } from "vitest";
import { confidentJoint } from "../../src/scoring/math/dynamics.js";
import {
  calibrateConfidentJoint,
  FILTER_BY_METHODS,
  findLabelIssues,
} from "../../src/scoring/math/label-issues.js";
import { Rng } from "../../src/util/rng.js";
import { expectCloseTo } from "../support/assert.js";
import { numpyScipy, python } from "../support/python.js";
import { describeWith } from "../support/system.js";

/**
 * numpy, written from the paper (Northcutt et al., JAIR 2021): confident joint, calibration (eq. 3),
 * C_confusion, C_{ỹ,y*}, prune by class, prune by noise rate and both. Ties go to the lower index;
 * counts round halves up.
 */
const PAPER = `
import json, sys
import numpy as np
d = json.load(sys.stdin)
P = np.array(d["probs"], dtype=float); y = np.array(d["labels"]); K = P.shape[1]; N = len(y)
t = np.array([P[y == j, j].mean() if (y == j).any() else np.nan for j in range(K)])
C = np.zeros((K, K)); cl = np.zeros(N, bool)
for s in range(N):
    above = [j for j in range(K) if P[s, j] >= t[j]]
    if not above: continue
    j = above[int(np.argmax(P[s, above]))]
    C[y[s], j] += 1
    cl[s] = j != y[s]
rows = C.sum(axis=1); counts = np.bincount(y, minlength=K)
Ct = np.zeros((K, K))
for i in range(K):
    if rows[i] > 0: Ct[i] = C[i] / rows[i] * counts[i]
Q = Ct / Ct.sum() if Ct.sum() > 0 else Ct
def rnd(x): return int(np.floor(x + 0.5))
pbnr = np.zeros(N, bool); pbc = np.zeros(N, bool)
for i in range(K):
    idx = np.where(y == i)[0]
    for j in range(K):
        if i == j: continue
        k = rnd(N * Q[i, j])
        order = np.lexsort((idx, -(P[idx, j] - P[idx, i])))
        pbnr[idx[order[:k]]] = True
    k = rnd(N * sum(Q[i, j] for j in range(K) if j != i))
    order = np.lexsort((idx, P[idx, i]))
    pbc[idx[order[:k]]] = True
out = {
  "calibrated": Ct.tolist(),
  "confident_learning": cl.tolist(),
  "predicted_neq_given": (P.argmax(axis=1) != y).tolist(),
  "prune_by_class": pbc.tolist(),
  "prune_by_noise_rate": pbnr.tolist(),
  "both": (pbc & pbnr).tolist(),
}
print(json.dumps(out))
`;

/** Probabilities of n samples over c classes that lean towards each sample's true class; some labels flipped. */
function noisyProblem(n: number, c: number, seed: number, labelClasses = c) {
  const rng = new Rng(seed);
  const probs = new Float64Array(n * c);
  const labels = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const truth = rng.int(labelClasses);
    labels[s] = rng.random() < 0.25 ? rng.int(labelClasses) : truth;
    let sum = 0;
    for (let k = 0; k < c; k++) {
      // coarse values, so equal probabilities (ties) occur
      const v = Math.round((rng.random() + (k === truth ? 1.5 : 0)) * 4) / 4 + 0.05;
      probs[s * c + k] = v;
      sum += v;
    }
    for (let k = 0; k < c; k++) probs[s * c + k] = (probs[s * c + k] as number) / sum;
  }
  return { probs, labels };
}

describeWith(numpyScipy, "label issues by filter_by against a numpy implementation of the paper", () => {
  for (const [label, n, c, labelClasses, seed] of [
    ["four classes, flipped labels, tied probabilities", 160, 4, 4, 1],
    ["a class no sample is labelled with: no confident sample in its row or column", 120, 4, 3, 2],
    ["three classes", 90, 3, 3, 5],
  ] as const) {
    it(label, () => {
      const { probs, labels } = noisyProblem(n, c, seed, labelClasses);
      const ref = python<Record<string, unknown>>(
        PAPER,
        [],
        JSON.stringify({
          probs: Array.from({ length: n }, (_, s) => Array.from(probs.subarray(s * c, (s + 1) * c))),
          labels: Array.from(labels),
        }),
      );
      for (const method of FILTER_BY_METHODS) {
        const { issue, calibrated } = findLabelIssues(probs, labels, c, method);
        expect(
          Array.from(issue, (v) => v === 1),
          method,
        ).toEqual(ref[method]);
        expectCloseTo(calibrated, (ref.calibrated as number[][]).flat(), 10, `${method}: calibrated joint`);
      }
      if (labelClasses < c) {
        const { joint } = confidentJoint(probs, labels, c);
        const last = c - 1;
        for (let k = 0; k < c; k++) {
          expect(joint[last * c + k]).toBe(0);
          expect(joint[k * c + last]).toBe(0);
        }
      }
    });
  }
});

describe("calibration", () => {
  it("makes each row of the confident joint sum to its label count; a zero row stays zero", () => {
    const joint = [2, 1, 0, 0, 3, 0, 0, 0, 0];
    const labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2];
    const cal = calibrateConfidentJoint(joint, labels, 3);
    expect(Array.from(cal)).toEqual([4, 2, 0, 0, 4, 0, 0, 0, 0]);
  });

  it("prune_by_noise_rate flags fewer samples than predicted_neq_given on confident, mostly clean data", () => {
    const { probs, labels } = noisyProblem(200, 4, 9);
    const count = (m: (typeof FILTER_BY_METHODS)[number]) =>
      findLabelIssues(probs, labels, 4, m).issue.reduce((a, b) => a + b, 0);
    const both = findLabelIssues(probs, labels, 4, "both").issue;
    const pbc = findLabelIssues(probs, labels, 4, "prune_by_class").issue;
    const pbnr = findLabelIssues(probs, labels, 4, "prune_by_noise_rate").issue;
    expect(Array.from(both)).toEqual(Array.from(pbc, (v, i) => (v && pbnr[i] ? 1 : 0)));
    expect(count("prune_by_noise_rate")).toBeGreaterThan(0);
    expect(count("prune_by_noise_rate")).toBeLessThan(count("predicted_neq_given"));
  });
});
