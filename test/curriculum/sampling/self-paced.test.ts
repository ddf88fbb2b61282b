/**
 * SelfPaced on a Digits run: each pass against a plain re-computation on the losses the run
 * recorded (threshold · growth^(k − 1), unseen samples kept), samples_seen, the cold start, exact
 * resume and byte-identical reruns.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { trainRun } from "../../../src/assembly/train-run.js";
import { runName } from "../../../src/config/naming.js";
import { SelfPaced } from "../../../src/curriculum/index.js";
import { readCsv } from "../../../src/util/csv.js";
import { Rng } from "../../../src/util/rng.js";
import { crashAt, differingFiles } from "../../training/helpers.js";
import { composedSampler, dynamicRun, passSizes, quiet, samplingRoot, trainerStateAt } from "./helpers.js";

const { root, freshDir } = samplingRoot("self-paced");

const ITERATIONS = 5;
const THRESHOLD = 2.1;
const GROWTH = 1.05;
function selfPacedRun(overrides: Record<string, unknown> = {}) {
  const sampling = { id: "SelfPaced", short: "SPL", threshold: THRESHOLD, growth: GROWTH };
  return dynamicRun(root, "spl", ITERATIONS, sampling, { overrides });
}

interface SavedState {
  sampler: { rng: number[]; sampler: { losses: Array<number | null>; passes: number } };
}
const stateAt = (dir: string, e: number) => trainerStateAt<SavedState>(dir, e);

/** The plain rule: positions with no loss yet or a loss below λ; all of them if that is none. */
function plainPass(losses: Array<number | null>, lambda: number): number[] {
  const kept = losses.flatMap((l, i) => (l === null || l < lambda ? [i] : []));
  return kept.length > 0 ? kept : losses.map((_, i) => i);
}

let straight: string;
let lines: string[];
beforeAll(async () => {
  straight = freshDir();
  lines = [];
  await trainRun(selfPacedRun(), { runDir: straight, log: (l) => lines.push(l), progress: false });
}, 120_000);

it("each pass is the plain re-computation on the recorded losses, with a growing threshold", () => {
  const sizes = passSizes(lines);
  expect(sizes).toHaveLength(ITERATIONS);
  const n = stateAt(straight, 1).sampler.sampler.losses.length;
  // cold start: no loss recorded yet, the first pass is whole
  expect(sizes[0]).toBe(n);
  for (let e = 2; e <= ITERATIONS; e++) {
    const saved = stateAt(straight, e - 1).sampler;
    expect(saved.sampler.passes).toBe(e - 1);
    expect(saved.sampler.losses.every((l) => typeof l === "number")).toBe(true);
    const lambda = THRESHOLD * GROWTH ** (e - 1);
    const expected = plainPass(saved.sampler.losses, lambda);
    expect(sizes[e - 1]).toBe(expected.length);
    // the positions themselves: a sampler restored from that checkpoint draws exactly them
    const sampler = new SelfPaced({ threshold: THRESHOLD, growth: GROWTH });
    const rng = new Rng(0);
    rng.setState(saved.rng as never);
    sampler.begin({
      size: n,
      labels: new Int32Array(n),
      numClasses: 10,
      trainingType: "epoch",
      totalIterations: ITERATIONS,
      rng,
      ranks: null,
    });
    sampler.load(saved.sampler);
    const pass = sampler.sample(n, { iteration: e, progress: (e - 1) / ITERATIONS });
    expect(Array.from(pass).sort((a, b) => a - b)).toEqual(expected);
  }
  // the threshold lets more in as it grows, and the selection is not trivial
  expect(sizes.slice(1).some((s) => s < n)).toBe(true);
  const seen = readCsv(join(straight, "metrics.csv")).rows.map((r) => Number(r.samples_seen));
  let sum = 0;
  expect(seen).toEqual(sizes.map((s) => (sum += s)));
});

it("an interrupted and resumed SelfPaced run, and a rerun with the same seed, equal the straight run byte for byte", async () => {
  const crashed = freshDir();
  await expect(
    trainRun(selfPacedRun(), { runDir: crashed, ...quiet, callbacks: [crashAt(3)] }),
  ).rejects.toThrow(/simulated crash/);
  await trainRun(selfPacedRun(), { runDir: crashed, ...quiet });
  expect(readFileSync(join(crashed, "training.log"), "utf8")).toContain("Resuming");
  expect(differingFiles(straight, crashed)).toEqual([]);
  const again = freshDir();
  await trainRun(selfPacedRun(), { runDir: again, ...quiet });
  expect(differingFiles(straight, again)).toEqual([]);
}, 120_000);

it("SelfPaced keeps samples never trained on, and refuses a growth below 1", () => {
  const sampler = new SelfPaced({ threshold: 0.5, growth: 2 });
  sampler.begin({
    size: 6,
    labels: new Int32Array(6),
    numClasses: 2,
    trainingType: "step",
    totalIterations: 10,
    rng: new Rng(1),
    ranks: null,
  });
  const losses = Float32Array.from([0.1, 0.9]);
  sampler.update(Int32Array.from([0, 1]), { losses } as never);
  // λ₁ = 0.5: 0 is below it, 1 is not, 2..5 have no loss yet
  expect(Array.from(sampler.sample(6, { iteration: 1, progress: 0 })).sort()).toEqual([0, 2, 3, 4, 5]);
  // λ₂ = 1: 1 comes in
  expect(sampler.sample(6, { iteration: 2, progress: 0.1 })).toHaveLength(6);
  // every sample at or above λ₃ = 2: the pass is the whole set, not an empty one
  sampler.update(Int32Array.from([0, 1, 2, 3, 4, 5]), { losses: new Float32Array(6).fill(3) } as never);
  expect(Array.from(sampler.sample(6, { iteration: 3, progress: 0.2 })).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  expect(sampler.state().passes).toBe(3);
  expect(() => new SelfPaced({ growth: 0.9 })).toThrow(/growth must be a number ≥ 1, got 0.9/);
});

it("the packaged SelfPaced composes with no score and no pacing", async () => {
  const config = await composedSampler(root, "SelfPaced");
  expect(config.curriculum.sampling).toEqual({ id: "SelfPaced", short: "SPL", threshold: 1, growth: 1.3 });
  expect(runName(config)).toContain("_D_SPL_None_None_1_0_");
});
