/**
 * Pools: the pool of a sample and the draws of a pass against hand-computed values; on a Digits
 * run, each evaluation's row of sampler.csv against a plain re-computation from the checkpoints'
 * pass counts, each pass against its pools; exact resume (epoch and step training) and
 * byte-identical reruns.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { trainRun, trainRunWith } from "../../../src/assembly/train-run.js";
import { runName } from "../../../src/config/naming.js";
import { parseSeed } from "../../../src/config/schema.js";
import { Pools, poolAssignment, poolQuotas } from "../../../src/curriculum/index.js";
import { readSamplerLog } from "../../../src/results/sampler-log.js";
import { readCsv } from "../../../src/util/csv.js";
import { Rng } from "../../../src/util/rng.js";
import { fakeDeps } from "../../training/fakes.js";
import { blobConfig, crashAt, differingFiles } from "../../training/helpers.js";
import {
  composedSampler,
  dynamicCurriculum,
  dynamicRun,
  quiet,
  samplingRoot,
  trainerStateAt,
} from "./helpers.js";

const { root, freshDir } = samplingRoot("pools");

const setup = (size: number, rng = new Rng(1)) => ({
  size,
  labels: new Int32Array(size),
  numClasses: 2,
  trainingType: "epoch" as const,
  totalIterations: 10,
  rng,
  ranks: null,
});
const outputs = (correct: number[]) => ({ correct: Uint8Array.from(correct) }) as never;

describe("Pools by hand", () => {
  it("a sample's pool follows its pass rate, both thresholds inclusive; unseen samples are normal", () => {
    // rates: unseen, 4/5, 3/5, 1/5, 0/3, 2/2, 5/6, 1/4 against easy ≥ 0.8, hard ≤ 0.2
    const correct = [0, 4, 3, 1, 0, 2, 5, 1];
    const attempts = [0, 5, 5, 5, 3, 2, 6, 4];
    expect(Array.from(poolAssignment(correct, attempts, 0.8, 0.2))).toEqual([1, 0, 1, 2, 2, 0, 0, 1]);
  });

  it("a pass's draws: the fractions of m, renormalised over the pools that are short", () => {
    // every pool holds its share: 10%, 80%, 10% of 500
    expect(poolQuotas([100, 800, 100], [0.1, 0.8, 0.1], 500)).toEqual([50, 400, 50]);
    // easy holds 20 of its 50: the 30 missing go 7:2 to normal and hard (23.3 and 6.7 → 23 and 7)
    expect(poolQuotas([20, 800, 180], [0.1, 0.7, 0.2], 500)).toEqual([20, 373, 107]);
    // docs/pacing.md's example: the defaults; easy gives 20 of 50, the 30 missing go 8:1 (26.7, 3.3 → 27, 3)
    expect(poolQuotas([20, 800, 180], [0.1, 0.8, 0.1], 500)).toEqual([20, 427, 53]);
    // before any batch every sample is normal
    expect(poolQuotas([0, 1000, 0], [0.1, 0.8, 0.1], 500)).toEqual([0, 500, 0]);
    // 0.7, 4.9, 1.4 → 0, 4, 1 and the 2 units left to the largest remainders (normal .9, easy .7)
    expect(poolQuotas([10, 10, 10], [0.1, 0.7, 0.2], 7)).toEqual([1, 5, 1]);
    // a tie of remainders goes to the earlier pool
    expect(poolQuotas([10, 10, 10], [0.25, 0.5, 0.25], 2)).toEqual([1, 1, 0]);
    // easy_fraction 0: normal (300) and hard (100) give all they have, easy fills the remaining 100
    expect(poolQuotas([600, 300, 100], [0, 0.9, 0.1], 500)).toEqual([100, 300, 100]);
  });

  it("a sampler draws its passes from the pools its updates put the samples in, and records them", () => {
    const sampler = new Pools({ easy_fraction: 0.1, hard_fraction: 0.2, pass_size: 0.6 });
    sampler.begin(setup(10));
    const inPool = (pass: Int32Array, members: number[]) =>
      Array.from(pass).filter((p) => members.includes(p));
    // m = ⌊0.6 · 10⌋ = 6, all from normal (nothing trained yet)
    const first = sampler.sample(10, { iteration: 1, progress: 0 });
    expect(new Set(first).size).toBe(6);
    expect(sampler.record()).toEqual({
      easy: 0,
      normal: 10,
      hard: 0,
      unseen: 10,
      drawn_easy: 0,
      drawn_normal: 6,
      drawn_hard: 0,
    });
    sampler.update(
      Int32Array.from({ length: 10 }, (_, i) => i),
      outputs([1, 1, 1, 1, 0, 0, 0, 1, 0, 1]),
    );
    // easy {0,1,2,3,7,9}, hard {4,5,6,8}, normal empty: 6 · 1/3 = 2 easy and 6 · 2/3 = 4 hard
    const easy = [0, 1, 2, 3, 7, 9];
    const hard = [4, 5, 6, 8];
    const second = sampler.sample(10, { iteration: 2, progress: 0.1 });
    expect(second).toHaveLength(6);
    expect(inPool(second, easy)).toHaveLength(2);
    expect(inPool(second, hard).sort()).toEqual(hard);
    expect(sampler.record()).toMatchObject({ easy: 6, normal: 0, hard: 4, unseen: 0, drawn_easy: 2 });
    // 0 fails (1/2) and 4 passes (1/2): both normal. Shares 0.6, 4.2, 1.2 → 0, 4, 1 + 1 to easy;
    // normal holds 2: the 2 missing go 1:2 to easy and hard (0.67, 1.33 → 0 + 1 and 1): 2, 2, 2
    sampler.update(Int32Array.from([0, 4]), outputs([0, 1]));
    const third = sampler.sample(10, { iteration: 3, progress: 0.2 });
    expect(inPool(third, [1, 2, 3, 7, 9])).toHaveLength(2);
    expect(inPool(third, [0, 4]).sort()).toEqual([0, 4]);
    expect(inPool(third, [5, 6, 8])).toHaveLength(2);
    expect(sampler.record()).toEqual({
      easy: 5,
      normal: 2,
      hard: 3,
      unseen: 0,
      drawn_easy: 2,
      drawn_normal: 2,
      drawn_hard: 2,
    });
    expect(Array.from(sampler.passRates())).toEqual([0.5, 1, 1, 1, 0.5, 0, 0, 1, 0, 1]);
  });

  it("Pools refuses arguments out of range with the key and the value", () => {
    expect(() => new Pools({ easy_threshold: 1.5 })).toThrow(
      /Pools: easy_threshold must be in \[0, 1\], got 1.5/,
    );
    expect(() => new Pools({ easy_threshold: 0.3, hard_threshold: 0.3 })).toThrow(
      /hard_threshold must be below easy_threshold, got hard_threshold=0.3 and easy_threshold=0.3/,
    );
    expect(() => new Pools({ easy_fraction: 0.6, hard_fraction: 0.5 })).toThrow(
      /easy_fraction \+ hard_fraction must be at most 1 \(normal gets the rest\), got 0.6 \+ 0.5/,
    );
    // fractions that add up to 1 in decimal are accepted whatever the float sum (normal gets 0)
    expect(new Pools({ easy_fraction: 0.7, hard_fraction: 0.3 }).args.easy_fraction).toBe(0.7);
    expect(() => new Pools({ pass_size: 0 })).toThrow(/pass_size must be in \(0, 1\], got 0/);
    expect(() => new Pools({ pass_size: 0.05 }).begin(setup(10))).toThrow(
      /pass_size=0.05 of 10 training samples draws none/,
    );
    const sampler = new Pools();
    sampler.begin(setup(3));
    expect(() => sampler.load({ correct: [2, 0, 0], attempts: [1, 0, 0], drawn: [0, 0, 0] })).toThrow(
      /saved state does not hold 3 correct and attempt counts/,
    );
  });
});

const ITERATIONS = 6;
const SAMPLING = { id: "Pools", short: "PL", easy_fraction: 0.1, hard_fraction: 0.2, pass_size: 0.5 };
const poolsRun = (overrides: Record<string, unknown> = {}) =>
  dynamicRun(root, "pools", ITERATIONS, SAMPLING, { overrides });

interface PoolsState {
  correct: number[];
  attempts: number[];
  drawn: number[];
}
interface SavedState {
  sampler: { rng: number[]; sampler: PoolsState };
}
const stateAt = (dir: string, e: number) => trainerStateAt<SavedState>(dir, e);

/** The plain rule: rate ≥ 0.8 easy (0), ≤ 0.2 hard (2), else and unseen normal (1). */
const plainPools = (s: PoolsState) =>
  s.attempts.map((a, i) =>
    a === 0 ? 1 : (s.correct[i] as number) / a >= 0.8 ? 0 : (s.correct[i] as number) / a <= 0.2 ? 2 : 1,
  );
const countOf = (pools: number[], p: number) => pools.filter((q) => q === p).length;

let straight: string;
let lines: string[];
beforeAll(async () => {
  straight = freshDir();
  lines = [];
  await trainRun(poolsRun(), { runDir: straight, log: (l) => lines.push(l), progress: false });
}, 120_000);

describe("Pools on a Digits run", () => {
  it("each evaluation's pool sizes and each pass's draws match a plain re-computation from the checkpoints", () => {
    const log = readSamplerLog(join(straight, "sampler.csv"));
    expect(log.map((r) => r.iteration)).toEqual([1, 2, 3, 4, 5, 6]);
    const n = stateAt(straight, 1).sampler.sampler.attempts.length;
    const m = Math.floor(0.5 * n);
    let previous: PoolsState = {
      correct: new Array(n).fill(0),
      attempts: new Array(n).fill(0),
      drawn: [0, 0, 0],
    };
    let rngState: number[] = Rng.derive(parseSeed(1).data, "dynamic-sampler").getState();
    for (let e = 1; e <= ITERATIONS; e++) {
      const saved = stateAt(straight, e).sampler;
      // the pass of epoch e, drawn again by a sampler restored from the checkpoint before it
      const sampler = new Pools(SAMPLING);
      const rng = new Rng(0);
      rng.setState(rngState as never);
      sampler.begin({ ...setup(n, rng), numClasses: 10, totalIterations: ITERATIONS });
      sampler.load(previous);
      const pass = Array.from(sampler.sample(n, { iteration: e, progress: (e - 1) / ITERATIONS }));
      expect(new Set(pass).size).toBe(m);
      // its draws per pool, by the plain rule on the counts before it
      const before = plainPools(previous);
      const drawn = [0, 1, 2].map((p) => pass.filter((i) => before[i] === p).length);
      const sizes = [0, 1, 2].map((p) => countOf(before, p)) as [number, number, number];
      expect(drawn).toEqual(poolQuotas(sizes, [0.1, 0.7, 0.2], m));
      // every sample of the pass was attempted once more, the others not
      const inPass = new Set(pass);
      for (let i = 0; i < n; i++) {
        const more = (saved.sampler.attempts[i] as number) - (previous.attempts[i] as number);
        const right = (saved.sampler.correct[i] as number) - (previous.correct[i] as number);
        expect(more).toBe(inPass.has(i) ? 1 : 0);
        expect(right >= 0 && right <= more).toBe(true);
      }
      // the row of sampler.csv: the pools after epoch e and the draws of its pass
      const after = plainPools(saved.sampler);
      expect(log[e - 1]?.values).toEqual({
        easy: countOf(after, 0),
        normal: countOf(after, 1),
        hard: countOf(after, 2),
        unseen: saved.sampler.attempts.filter((a) => a === 0).length,
        drawn_easy: drawn[0],
        drawn_normal: drawn[1],
        drawn_hard: drawn[2],
      });
      previous = saved.sampler;
      rngState = saved.rng;
    }
    // by hand: after epoch 1 every pool held its share of m = 539, so pass 2 drew 53.9, 377.3, 107.8
    // → 53, 377, 107 and the 2 units left to easy (.9) and hard (.8)
    expect(m).toBe(539);
    const [one, two] = [log[0]?.values ?? {}, log[1]?.values ?? {}];
    expect(one.easy).toBeGreaterThanOrEqual(54);
    expect(one.normal).toBeGreaterThanOrEqual(377);
    expect(one.hard).toBeGreaterThanOrEqual(108);
    expect([two.drawn_easy, two.drawn_normal, two.drawn_hard]).toEqual([54, 377, 108]);
    // the renormalisation was exercised: some pass found normal short and took all of it
    expect(
      log
        .slice(1)
        .some(
          (r, k) =>
            (log[k]?.values.normal as number) < 377 && r.values.drawn_normal === log[k]?.values.normal,
        ),
    ).toBe(true);
    // and the easy pool grows as the network learns
    expect(log.at(-1)?.values.easy).toBeGreaterThan(one.easy as number);
    // passes of m samples; the log has one line per evaluation
    const seen = readCsv(join(straight, "metrics.csv")).rows.map((r) => Number(r.samples_seen));
    expect(seen).toEqual([1, 2, 3, 4, 5, 6].map((e) => e * m));
    const logged = lines.filter((l) => l.startsWith("dynamic sampling at epoch"));
    expect(logged).toHaveLength(ITERATIONS);
    expect(logged[0]).toBe(
      `dynamic sampling at epoch 1: easy ${log[0]?.values.easy}, normal ${log[0]?.values.normal}, hard ${log[0]?.values.hard}, unseen ${n - m}, drawn_easy 0, drawn_normal ${m}, drawn_hard 0`,
    );
    expect(lines).toContain(
      "curriculum: Dynamic, sampler Pools(easy_threshold=0.8, hard_threshold=0.2, easy_fraction=0.1, hard_fraction=0.2, pass_size=0.5)",
    );
  });

  it("an interrupted and resumed Pools run, and a rerun with the same seed, equal the straight run byte for byte", async () => {
    const crashed = freshDir();
    await expect(
      trainRun(poolsRun(), { runDir: crashed, ...quiet, callbacks: [crashAt(3)] }),
    ).rejects.toThrow(/simulated crash/);
    expect(existsSync(join(crashed, "sampler.csv"))).toBe(false);
    await trainRun(poolsRun(), { runDir: crashed, ...quiet });
    expect(readFileSync(join(crashed, "training.log"), "utf8")).toContain("Resuming");
    expect(differingFiles(straight, crashed)).toEqual([]);
    const again = freshDir();
    await trainRun(poolsRun(), { runDir: again, ...quiet });
    expect(differingFiles(straight, again)).toEqual([]);
    expect(readFileSync(join(again, "sampler.csv"), "utf8")).toBe(
      readFileSync(join(straight, "sampler.csv"), "utf8"),
    );
  }, 120_000);

  it("in step training, a run interrupted mid-pass resumes to the same files, sampler.csv included", async () => {
    const config = blobConfig({
      results_dir: root,
      experiment_id: "pools-steps",
      training_type: "step",
      iterations: 30,
      eval_frequency: 4,
      save_frequency: 2,
      batch_size: 8,
      curriculum: dynamicCurriculum(SAMPLING),
    });
    const first = freshDir();
    await trainRunWith(fakeDeps(), config, { runDir: first, ...quiet });
    // 90 Blobs samples, passes of 45: evaluations at steps 4, 8, … fall inside passes
    const log = readSamplerLog(join(first, "sampler.csv"));
    expect(log.map((r) => r.iteration)).toEqual([4, 8, 12, 16, 20, 24, 28, 30]);
    const drawn = log.map(
      ({ values: v }) => (v.drawn_easy ?? 0) + (v.drawn_normal ?? 0) + (v.drawn_hard ?? 0),
    );
    expect(drawn).toEqual(new Array(8).fill(45));
    // the crash at step 11 resumes from step 8's checkpoint: the evaluation at 12 comes before the
    // next pass (at 13), so its draws are those of the pass saved in the checkpoint
    const crashed = freshDir();
    await expect(
      trainRunWith(fakeDeps(), config, { runDir: crashed, ...quiet, callbacks: [crashAt(11, "onStep")] }),
    ).rejects.toThrow(/simulated crash/);
    await trainRunWith(fakeDeps(), config, { runDir: crashed, ...quiet });
    expect(differingFiles(first, crashed)).toEqual([]);
  });
});

it("the packaged Pools composes with no score and no pacing, with prime-rl's defaults", async () => {
  const config = await composedSampler(root, "Pools");
  expect(config.curriculum.sampling).toEqual({
    id: "Pools",
    short: "PL",
    easy_threshold: 0.8,
    hard_threshold: 0.2,
    easy_fraction: 0.1,
    hard_fraction: 0.1,
    pass_size: 0.5,
  });
  expect(runName(config)).toContain("_D_PL_None_None_1_0_");
});
