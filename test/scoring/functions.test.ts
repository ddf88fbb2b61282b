import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readScoreRows } from "../../src/results/score-table.js";
import { CurriculumScoreManager, type ScoreManagerConfig } from "../../src/scoring/manager.js";
import { loadNpy } from "../../src/util/npy.js";
import { readYaml, writeYaml } from "../../src/util/yaml-io.js";
import { expectCloseTo } from "../support/assert.js";
import { executeScore, scoreManagerConfig, trainDigitsRuns } from "./fixture.js";

let resultsDir: string;
let runs: string[];
const computed: string[] = [];

beforeAll(async () => {
  ({ resultsDir, runs } = await trainDigitsRuns([1, 2, 3]));
});

afterAll(() => {
  rmSync(resultsDir, { recursive: true, force: true });
});

const managerConfig = (scoring: Record<string, unknown>, extra: Partial<ScoreManagerConfig> = {}) =>
  scoreManagerConfig(resultsDir, scoring, extra);

async function execute(scoring: Record<string, unknown>, extra: Partial<ScoreManagerConfig> = {}) {
  const executed = await executeScore(managerConfig(scoring, extra));
  computed.push(String(scoring.id));
  return executed;
}

/** Ranks are a permutation of 0, 1/(N−1), …, 1 in subset order. */
function expectValidRanks(rows: ReturnType<typeof readScoreRows>) {
  const n = rows.index.length;
  expect(Array.from(rows.index)).toEqual(Array.from({ length: n }, (_, i) => i));
  const ranks = Array.from(rows.columns.get("ranks") as Float64Array).sort((a, b) => a - b);
  expectCloseTo(
    ranks,
    Array.from({ length: n }, (_, i) => i / (n - 1)),
    12,
    "sorted ranks",
  );
}

describe("scoring functions on tiny Digits runs", () => {
  it("CELoss equals the per-sample losses the trainer saved for the best model", async () => {
    const { atomic, rows, result } = await execute({ id: "CELoss", type: "CELoss", run_name: runs[0] });
    expect(atomic.map((a) => a.name)).toEqual([`${runs[0]}_CrossEntropyLoss_b`]);
    expectValidRanks(rows);
    const best = join(resultsDir, "default", "training", runs[0] as string, "_best");
    const losses = loadNpy(join(best, "train_losses.npy")).data;
    const indices = loadNpy(join(best, "train_indices.npy")).data;
    const mean = rows.columns.get("mean") as Float64Array;
    for (let r = 0; r < indices.length; r += 97)
      expect(mean[indices[r] as number]).toBeCloseTo(losses[r] as number, 4);
    const card = readYaml<Record<string, unknown>>(result.card);
    expect(card).toMatchObject({
      id: "CELoss",
      subset: "train",
      stop: "best",
      reverse: false,
      samples: rows.index.length,
    });
    expect((card.ties as { distinct: number }).distinct).toBeGreaterThan(1);
    expect(readFileSync(result.scoreFile, "utf8").split("\n")[0]).toBe(
      "index,source_index,mean,ranks,encoded,decoded",
    );
  });

  it("CumulativeAccuracy counts every evaluated iteration (stop: last) and ranks in reverse", async () => {
    const { rows } = await execute({
      id: "CumulativeAccuracy",
      type: "CumulativeAccuracy",
      run_name: runs[0],
      stop: "last",
    });
    expectValidRanks(rows);
    const sum = rows.columns.get("sum") as Float64Array;
    const count = rows.columns.get("count") as Float64Array;
    expect(new Set(count)).toEqual(new Set([3]));
    for (let i = 0; i < sum.length; i++) expect(sum[i]).toBeLessThanOrEqual(count[i] as number);
    const mean = rows.columns.get("mean") as Float64Array;
    const ranks = rows.columns.get("ranks") as Float64Array;
    const easiest = ranks.indexOf(0);
    expect(mean[easiest]).toBe(Math.max(...mean));
  });

  it("FirstIteration takes values (T − L)/T", async () => {
    const { rows } = await execute({
      id: "FirstIteration",
      type: "FirstIteration",
      run_name: runs[0],
      stop: "last",
    });
    expectValidRanks(rows);
    for (const v of rows.columns.get("mean") as Float64Array) expect([0, 1 / 3, 2 / 3, 1]).toContainEqual(v);
  });

  it("CVLoss trains one model per split and scores every sample exactly once", async () => {
    const setup = {
      dataset: "Digits",
      model: "FFNN",
      optimizer: "Adam",
      learning_rate: 0.01,
      seed: 1,
      batch_size: 32,
      iterations: 1,
    };
    const { atomic, rows } = await execute({ id: "CVLoss", type: "CVLoss", splits: 2, setup });
    expect(atomic.map((a) => a.name)).toEqual([
      "0_Digits_FFNN_Adam_0.01_32_epoch_1_None_None_1_CrossEntropyLoss_b",
      "1_Digits_FFNN_Adam_0.01_32_epoch_1_None_None_1_CrossEntropyLoss_b",
    ]);
    expectValidRanks(rows);
    const out = join(resultsDir, "default", "curriculum", "CVLoss");
    const folds = atomic.map((a) => readScoreRows(join(out, a.name, "scores.csv")));
    expect(folds[0]?.index.length).toBe(Math.floor(rows.index.length / 2));
    const all = folds.flatMap((f) => Array.from(f.index)).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: rows.index.length }, (_, i) => i));
    expect(existsSync(join(out, atomic[0]?.name as string, "metrics.csv"))).toBe(true);
    // a second invocation reuses the trained folds
    const again = await CurriculumScoreManager.create(
      managerConfig({ id: "CVLoss", type: "CVLoss", splits: 2, setup }),
      { log: () => {} },
    );
    for (const run of await again.preprocess()) expect(await again.run(run)).toEqual({ skipped: true });
  });

  it("PredictionDepth probes input, matched layers (full match) and output", async () => {
    const { atomic, rows } = await execute({
      id: "PredictionDepth",
      type: "PredictionDepth",
      run_name: runs[0],
      probe_placements: ["linear\\d+"],
      max_embedding_size: 32,
      save_embeddings: true,
    });
    expect(atomic[0]?.name).toMatch(new RegExp(`^${runs[0]}_b_[0-9a-f]{8}$`));
    expectValidRanks(rows);
    expect([...rows.columns.keys()].filter((c) => c.startsWith("probe_"))).toEqual([
      "probe_0",
      "probe_1",
      "probe_2",
      "probe_3",
    ]);
    for (const v of rows.columns.get("mean") as Float64Array)
      expect([0, 0.25, 0.5, 0.75, 1]).toContainEqual(v);
    const dir = join(resultsDir, "default", "curriculum", "PredictionDepth", atomic[0]?.name as string);
    expect(loadNpy(join(dir, "embeddings_0.npy")).shape).toEqual([rows.index.length, 32]);
    expect(loadNpy(join(dir, "embeddings_3.npy")).shape).toEqual([rows.index.length, 10]);
  });

  it("TransferTeacher scores the SVM probability of the true class (and the margin variant)", async () => {
    const { atomic, rows } = await execute({
      id: "TransferTeacher",
      type: "TransferTeacher",
      model: runs[0],
      dataset: "Digits",
    });
    expect(atomic[0]?.name).toBe(`${runs[0]}_Digits`);
    expectValidRanks(rows);
    const p = rows.columns.get("mean") as Float64Array;
    for (const v of p) expect(v >= 0 && v <= 1).toBe(true);
    expect(p.reduce((a, b) => a + b, 0) / p.length).toBeGreaterThan(0.5);
    const margin = await execute({
      id: "TransferTeacher-margin",
      type: "TransferTeacher",
      model: runs[0],
      dataset: "Digits",
      margin: true,
    });
    expect(margin.atomic[0]?.name).toBe(`${runs[0]}_Digits_margin`);
    const m = margin.rows.columns.get("mean") as Float64Array;
    // a positive margin means the true class wins every one-vs-one vote: those are mostly confident
    const positive = Array.from(m.keys()).filter((i) => (m[i] as number) > 0);
    expect(positive.length).toBeGreaterThan(m.length / 2);
    const meanP = (idx: number[]) => idx.reduce((s, i) => s + (p[i] as number), 0) / idx.length;
    const negative = Array.from(m.keys()).filter((i) => (m[i] as number) <= 0);
    if (negative.length > 0) expect(meanP(positive)).toBeGreaterThan(meanP(negative));
  });

  it("Predefined reads a user column; a row-count mismatch is an error", async () => {
    const n = (await execute({ id: "Random", type: "Random", dataset: "Digits", seed: 3 })).rows.index.length;
    const file = join(resultsDir, "human.csv");
    writeFileSync(
      file,
      `id,score\n${Array.from({ length: n }, (_, i) => `${i},${(i * 7) % 11}`).join("\n")}\n`,
    );
    const { rows } = await execute({
      id: "Predefined",
      type: "Predefined",
      file,
      scores_column: "score",
      reverse: false,
      dataset: "Digits",
    });
    expect((rows.columns.get("mean") as Float64Array)[5]).toBe(35 % 11);
    const short = join(resultsDir, "short.csv");
    writeFileSync(short, "id,score\n0,1\n1,2\n");
    const error = await execute({
      id: "Predefined-short",
      type: "Predefined",
      file: short,
      scores_column: "score",
      reverse: true,
      dataset: "Digits",
    }).catch((e) => e);
    expect(String(error)).toMatch(/short\.csv: 2 rows, but the train subset of Digits has \d+ samples/);
  });

  it("Random is seeded and reproducible", async () => {
    const out = join(resultsDir, "default", "curriculum", "Random");
    const a = await execute({ id: "Random-7", type: "Random", dataset: "Digits", seed: 7 });
    expect(a.atomic[0]?.name).toBe("Digits_7");
    const first = Array.from(a.rows.columns.get("mean") as Float64Array);
    // recomputed from scratch (not reused), the same seed gives the same scores
    rmSync(join(out, "Digits_7"), { recursive: true });
    const again = await execute({ id: "Random-7", type: "Random", dataset: "Digits", seed: 7 });
    expect(existsSync(join(out, "Digits_7", "scores.csv"))).toBe(true);
    expect(Array.from(again.rows.columns.get("mean") as Float64Array)).toEqual(first);
    // another seed (3, scored in the Predefined test) gives other scores
    const seed3 = readScoreRows(join(out, "Digits_3", "scores.csv")).columns.get("scores") as Float64Array;
    expect(Array.from(seed3)).not.toEqual(first);
    expect(new Set(first).size).toBe(first.length);
  });
});

describe("ensembles, reuse and validation", () => {
  it("an aggregated run name resolves to its 3 seeds and averages their scores", async () => {
    const aggName = (runs[0] as string).replace(/_1$/, "_#");
    const aggDir = join(resultsDir, "default", "agg_seed", aggName);
    mkdirSync(aggDir, { recursive: true });
    writeYaml(join(aggDir, "runs.yaml"), runs);
    const { atomic, rows } = await execute({ id: "CELoss-ensemble", type: "CELoss", run_name: aggName });
    expect(atomic).toHaveLength(3);
    const out = join(resultsDir, "default", "curriculum", "CELoss");
    const parts = atomic.map(
      (a) => readScoreRows(join(out, a.name, "scores.csv")).columns.get("scores") as Float64Array,
    );
    const mean = rows.columns.get("mean") as Float64Array;
    for (const i of [0, 10, 500])
      expect(mean[i]).toBeCloseTo(
        ((parts[0]?.[i] ?? 0) + (parts[1]?.[i] ?? 0) + (parts[2]?.[i] ?? 0)) / 3,
        10,
      );
  });

  it("run_name [r, r] gives one atomic run", async () => {
    const manager = await CurriculumScoreManager.create(
      managerConfig({ id: "CELoss", type: "CELoss", run_name: [runs[0], runs[0]] }),
    );
    expect(await manager.preprocess()).toHaveLength(1);
  });

  it("reuses an existing result and refuses one made from another config", async () => {
    const manager = await CurriculumScoreManager.create(
      managerConfig({ id: "CELoss", type: "CELoss", run_name: runs[0] }),
      { log: () => {} },
    );
    const [run] = await manager.preprocess();
    expect(await manager.run(run as never)).toEqual({ skipped: true });
    const scorePath = join(
      resultsDir,
      "default",
      "curriculum",
      "CELoss",
      `${runs[0]}_CrossEntropyLoss_b`,
      "score.yaml",
    );
    const saved = readYaml<Record<string, unknown>>(scorePath);
    writeYaml(scorePath, { ...saved, subset: "dev" });
    await expect(manager.run(run as never)).rejects.toThrow(
      /holds scores of a different config[\s\S]*subset/,
    );
    writeYaml(scorePath, saved);
  });

  it("rejects an invalid subset or stop with the original's messages", async () => {
    await expect(
      CurriculumScoreManager.create(
        managerConfig({ id: "CELoss", type: "CELoss", run_name: runs[0], subset: "val" }),
      ),
    ).rejects.toThrow("Subset 'val' not supported");
    await expect(
      CurriculumScoreManager.create(
        managerConfig({ id: "CELoss", type: "CELoss", run_name: runs[0], stop: "first" }),
      ),
    ).rejects.toThrow("Stop must be in ['best', 'last'], but got stop='first'");
    await expect(CurriculumScoreManager.create(managerConfig({ id: "None", type: "None" }))).rejects.toThrow(
      "No scoring function provided.",
    );
    await expect(
      CurriculumScoreManager.create(managerConfig({ id: "CELoss", type: "CELoss", run_name: "???" })),
    ).rejects.toThrow(/run_name: required value missing/);
  });

  it("the correlation matrix covers every computed score, with plots", async () => {
    const { result } = await execute(
      { id: "Random-1", type: "Random", dataset: "Digits", seed: 1 },
      { correlation: { correlation_matrix: "all" }, plots: true },
    );
    const matrix = result.matrices[0];
    expect(new Set(matrix?.ids)).toEqual(new Set(computed));
    const header = readFileSync(
      join(resultsDir, "default", "curriculum", "correlation_matrix.csv"),
      "utf8",
    ).split("\n")[0];
    expect(header?.split(",").slice(1).sort()).toEqual([...new Set(computed)].sort());
    expect(existsSync(join(resultsDir, "default", "curriculum", "correlation_matrix.png"))).toBe(true);
    for (const plot of ["histogram", "count_per_class", "percent_per_class", "ridge_per_class"]) {
      expect(
        existsSync(join(resultsDir, "default", "curriculum", "Random", "_plots", "Random-1", `${plot}.svg`)),
      ).toBe(true);
    }
  });
});
