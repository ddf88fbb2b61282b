/**
 * InfoBatch against a numpy re-implementation on the losses a real Digits run recorded: the size of
 * each pass, which samples could be pruned and the kept ones' loss scale; the scaled loss the engines
 * train on; samples_seen; exact resume and byte-identical reruns.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { trainRun } from "../../../src/assembly/train-run.js";
import { InfoBatch } from "../../../src/curriculum/index.js";
import { createNetwork, type EngineChoice, initEngine, type NetworkSpec } from "../../../src/engine/index.js";
import { readCsv } from "../../../src/util/csv.js";
import { Rng } from "../../../src/util/rng.js";
import { numpyScipy, python } from "../../support/python.js";
import { describeWith } from "../../support/system.js";
import { torchEngine } from "../../support/torch.js";
import { crashAt, differingFiles } from "../../training/helpers.js";
import { dynamicRun, quiet, samplingRoot, trainerStateAt } from "./helpers.js";

const { root, freshDir } = samplingRoot("info-batch");

const ITERATIONS = 8;
function infoBatchRun(overrides: Record<string, unknown> = {}) {
  const sampling = { id: "InfoBatch", short: "IB", prune_ratio: 0.5, delta: 0.875 };
  return dynamicRun(root, "ib", ITERATIONS, sampling, { overrides });
}

/** The numpy re-implementation: per pass, its size and the count of below-mean samples. */
const NUMPY_INFOBATCH = `
import json, sys
import numpy as np
data = json.load(sys.stdin)
r, delta, total = data["prune_ratio"], data["delta"], data["total"]
out = []
for e, scores in data["passes"]:
    scores = np.asarray(scores, dtype=np.float64)
    if (e - 1) / total >= delta:
        out.append({"size": int(scores.size), "well": [], "kept_scaled": 0, "scale": 1.0})
        continue
    well = np.flatnonzero(scores < scores.mean())
    keep = 1 - r
    kept = int(keep * well.size)
    out.append({"size": int(scores.size - well.size + kept), "well": well.tolist(), "kept_scaled": kept, "scale": float(np.float32(1 / keep))})
print(json.dumps(out))
`;

interface SavedState {
  sampler: { rng: number[]; sampler: { scores: number[]; weights: number[] } };
}
const stateAt = (dir: string, e: number) => trainerStateAt<SavedState>(dir, e);

let straight: string;
let lines: string[];
beforeAll(async () => {
  straight = freshDir();
  lines = [];
  await trainRun(infoBatchRun(), { runDir: straight, log: (l) => lines.push(l), progress: false });
}, 120_000);

describeWith(numpyScipy, "InfoBatch on the losses a Digits run recorded", () => {
  it("each pass's size, its prunable samples and the kept ones' scale match numpy", () => {
    const n = stateAt(straight, 1).sampler.sampler.scores.length;
    const sizes = lines
      .filter((l) => l.startsWith("dynamic sampling: pass from epoch"))
      .map((l) => Number(/has (\d+) of/.exec(l)?.[1]));
    expect(sizes).toHaveLength(ITERATIONS);
    // pass e is drawn from the losses recorded up to epoch e − 1 (all equal before the first)
    const passes = Array.from({ length: ITERATIONS }, (_, i) => [
      i + 1,
      i === 0 ? new Array(n).fill(0) : stateAt(straight, i).sampler.sampler.scores,
    ]);
    const expected = python<Array<{ size: number; well: number[]; kept_scaled: number; scale: number }>>(
      NUMPY_INFOBATCH,
      [],
      JSON.stringify({ prune_ratio: 0.5, delta: 0.875, total: ITERATIONS, passes }),
    );
    expect(sizes).toEqual(expected.map((p) => p.size));
    // pruning happened (epochs 2..7), the first and the last pass are whole
    expect(sizes[0]).toBe(n);
    expect(sizes[ITERATIONS - 1]).toBe(n);
    for (let e = 2; e <= 7; e++) expect(sizes[e - 1]).toBeLessThan(n);
    for (let e = 1; e <= ITERATIONS; e++) {
      const weights = stateAt(straight, e).sampler.sampler.weights;
      const reference = expected[e - 1] as (typeof expected)[number];
      const scaled = weights.flatMap((w, i) => (w !== 1 ? [i] : []));
      expect(scaled.length).toBe(reference.kept_scaled);
      const well = new Set(reference.well);
      for (const i of scaled) {
        expect(well.has(i)).toBe(true);
        expect(weights[i]).toBe(reference.scale);
      }
    }
  });

  it("samples_seen in metrics.csv is the running sum of the pruned passes", () => {
    const sizes = lines
      .filter((l) => l.startsWith("dynamic sampling: pass from epoch"))
      .map((l) => Number(/has (\d+) of/.exec(l)?.[1]));
    const seen = readCsv(join(straight, "metrics.csv")).rows.map((r) => Number(r.samples_seen));
    let sum = 0;
    expect(seen).toEqual(sizes.map((s) => (sum += s)));
    expect(seen[ITERATIONS - 1]).toBeLessThan(ITERATIONS * (sizes[0] as number));
  });
});

const SPEC: NetworkSpec = {
  type: "FFNN",
  inputShape: [6],
  outputDim: 3,
  params: { hidden_sizes: [5], dropout: 0 },
};

/** numpy: sum_i s_i w[y_i] CE_i / sum_i w[y_i] from the logits. */
const NUMPY_SCALED_LOSS = `
import json, sys
import numpy as np
d = json.load(sys.stdin)
z = np.asarray(d["logits"], dtype=np.float64).reshape(-1, 3)
y = np.asarray(d["y"]); s = np.asarray(d["s"], dtype=np.float64); w = np.asarray(d["w"], dtype=np.float64)
m = z.max(axis=1, keepdims=True)
ce = (np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]) - z[np.arange(len(y)), y]
print(json.dumps(float((s * w[y] * ce).sum() / w[y].sum())))
`;

for (const engine of ["wasm", "torch"] as const) {
  describeWith(
    engine === "torch" ? torchEngine : numpyScipy,
    `per-sample loss weights on the ${engine} engine`,
    () => {
      it("trainStep's loss is numpy's rescaled mean; all-one weights change nothing", async () => {
        if (engine === "torch" && numpyScipy.problem) throw new Error(numpyScipy.problem);
        await initEngine({ engine: engine as EngineChoice, threads: 1 });
        const rng = new Rng(3);
        const x = Float32Array.from({ length: 8 * 6 }, () => rng.normal());
        const y = Int32Array.from({ length: 8 }, () => rng.int(3));
        const s = Float32Array.from([2, 1, 2, 1, 1, 2, 1, 1]);
        const w = Float32Array.from([1, 0.5, 2]);
        const a = createNetwork(SPEC, { type: "SGD", learningRate: 0.1 }, 1);
        const b = createNetwork(SPEC, { type: "SGD", learningRate: 0.1 }, 1);
        const logits = Array.from(a.forward(x, 8).logits);
        const loss = a.trainStep(x, 8, y, w, s);
        const reference = python<number>(
          NUMPY_SCALED_LOSS,
          [],
          JSON.stringify({ logits, y: Array.from(y), s: Array.from(s), w: Array.from(w) }),
        );
        expect(Math.abs(loss - reference)).toBeLessThan(1e-5 * Math.abs(reference));
        // all-one sample weights: the very same step as none
        const c = createNetwork(SPEC, { type: "SGD", learningRate: 0.1 }, 1);
        expect(b.trainStep(x, 8, y, w, new Float32Array(8).fill(1))).toBe(c.trainStep(x, 8, y, w));
        expect(Array.from(b.forward(x, 8).logits)).toEqual(Array.from(c.forward(x, 8).logits));
        for (const net of [a, b, c]) net.dispose();
      });
    },
  );
}

it("an interrupted and resumed InfoBatch run, and a rerun with the same seed, equal the straight run byte for byte", async () => {
  expect(readdirSync(straight)).toContain("metrics.csv");
  const crashed = freshDir();
  await expect(
    trainRun(infoBatchRun(), { runDir: crashed, ...quiet, callbacks: [crashAt(5)] }),
  ).rejects.toThrow(/simulated crash/);
  await trainRun(infoBatchRun(), { runDir: crashed, ...quiet });
  expect(readFileSync(join(crashed, "training.log"), "utf8")).toContain("Resuming");
  expect(differingFiles(straight, crashed)).toEqual([]);
  const again = freshDir();
  await trainRun(infoBatchRun(), { runDir: again, ...quiet });
  expect(differingFiles(straight, again)).toEqual([]);
}, 120_000);

it("InfoBatch refuses a prune_ratio outside [0, 1)", () => {
  expect(() => new InfoBatch({ prune_ratio: 1 })).toThrow(/prune_ratio must be in \[0, 1\), got 1/);
});

describeWith(torchEngine, "InfoBatch on the torch engine", () => {
  it("an interrupted and resumed run, and a rerun, equal the straight run byte for byte", async () => {
    const config = infoBatchRun({ engine: "torch", threads: 2, iterations: 6 });
    const first = freshDir();
    await trainRun(config, { runDir: first, ...quiet });
    const crashed = freshDir();
    await expect(trainRun(config, { runDir: crashed, ...quiet, callbacks: [crashAt(3)] })).rejects.toThrow(
      /simulated crash/,
    );
    await trainRun(config, { runDir: crashed, ...quiet });
    expect(readFileSync(join(crashed, "training.log"), "utf8")).toContain("Resuming");
    expect(differingFiles(first, crashed)).toEqual([]);
    const again = freshDir();
    await trainRun(config, { runDir: again, ...quiet });
    expect(differingFiles(first, again)).toEqual([]);
    // pruning happened: fewer samples than 6 whole passes
    const seen = readCsv(join(first, "metrics.csv")).rows.map((r) => Number(r.samples_seen));
    expect(seen.at(-1)).toBeLessThan(6 * 1079);
  }, 120_000);
});
