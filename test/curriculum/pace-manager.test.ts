import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scoreFile } from "../../src/config/layout.js";
import { NONE_CURRICULUM, type RunConfig } from "../../src/config/schema.js";
import { type CurriculumPaceManager, createCurriculumCallback } from "../../src/curriculum/index.js";
import { writeCsv } from "../../src/util/csv.js";
import { expectCloseTo } from "../support/assert.js";
import { curriculumConfig, fakeContext, fakeDataset, runEpochs, tempDir, writeScores } from "./fakes.js";

// 10 training samples of 3 classes; difficulty rises with position except a few swaps.
const LABELS = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
const RANKS = [0.0, 0.1, 0.9, 0.2, 0.3, 0.8, 0.4, 0.5, 0.7, 0.6];

function setup(overrides: Parameters<typeof curriculumConfig>[1] = {}) {
  const dir = tempDir();
  const config = curriculumConfig(dir, overrides);
  writeScores(config, RANKS);
  const runDir = join(dir, "exp", "training", "run");
  const ctx = fakeContext(config, fakeDataset(LABELS, 3), runDir);
  return { dir, config, ctx, runDir };
}

describe("createCurriculumCallback", () => {
  it("is null for curriculum None", () => {
    const config = {
      ...curriculumConfig(tempDir()),
      curriculum: structuredClone(NONE_CURRICULUM),
    } as RunConfig;
    expect(createCurriculumCallback(config)).toBeNull();
  });

  it("refuses a partial curriculum, naming the missing part", () => {
    const config = curriculumConfig(tempDir());
    config.curriculum.sampling = { id: "None", short: "N" };
    expect(() => createCurriculumCallback(config)).toThrow(
      /curriculum\.sampling: Curriculum needs a sampling config/,
    );
  });
});

describe("CurriculumPaceManager", () => {
  it("finds the score file under curriculum/<scoring.type>/<scoring.id>.csv", () => {
    const { dir, config } = setup();
    expect(scoreFile(config.results_dir, config.experiment_id, config.curriculum.scoring)).toBe(
      join(dir, "exp", "curriculum", "CELoss", "CELoss.csv"),
    );
  });

  it("a missing score file names the file and the command that creates it", async () => {
    const dir = tempDir();
    const config = curriculumConfig(dir);
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    const ctx = fakeContext(config, fakeDataset(LABELS, 3), join(dir, "run"));
    await expect(cb.onTrainBegin(ctx)).rejects.toThrow(
      `score file not found: ${join(dir, "exp", "curriculum", "CELoss", "CELoss.csv")} (curriculum.scoring=CELoss); compute it first with: curricula curriculum curriculum/scoring=CELoss`,
    );
  });

  it("refuses a score file of another dataset or split instead of aligning by position", async () => {
    const { config, ctx } = setup();
    writeScores(config, RANKS, 200); // other source indices
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    await expect(cb.onTrainBegin(ctx)).rejects.toThrow(
      /row 2: index 0 has source_index 200 but the training subset holds source sample 100/,
    );
    writeScores(config, RANKS.slice(0, 9));
    await expect(cb.onTrainBegin(ctx)).rejects.toThrow(/9 scored samples but the training subset has 10/);
  });

  it("accepts score rows in any order, matched by index", async () => {
    const { config, ctx } = setup();
    const path = scoreFile(config.results_dir, config.experiment_id, config.curriculum.scoring);
    const rows = RANKS.map((r, i) => ({ index: i, source_index: 100 + i, ranks: r })).reverse();
    writeCsv(path, ["index", "source_index", "ranks"], rows);
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    await cb.onTrainBegin(ctx);
    expect(Array.from(cb.sampler?.currentSubset() ?? [])).toEqual([0, 1, 3, 4, 6]);
  });

  it("trains the first epoch on exactly the easiest samples and grows with the pacing", async () => {
    const { config, ctx, runDir } = setup({ iterations: 4 }); // Linear s=0.5 f=0.5: 5, 7, 10, 10, 10
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    await cb.onTrainBegin(ctx);
    const passes = await runEpochs(cb, ctx, 1, 4);
    expect([...(passes[0] as number[])].sort((a, b) => a - b)).toEqual([0, 1, 3, 4, 6]);
    expect(passes.map((p) => p.length)).toEqual([5, 7, 10, 10]);
    await cb.onTrainEnd(ctx);
    expect(readFileSync(join(runDir, "pace.csv"), "utf8")).toBe(
      "iteration,dataset_size\n0,5\n1,7\n2,10\n3,10\n4,10\n",
    );
    expect(existsSync(join(runDir, "_plots", "pace.svg"))).toBe(true);
    expect(existsSync(join(runDir, "_plots", "pace.png"))).toBe(true);
  });

  it("AntiCurriculum starts with the hardest samples", async () => {
    const { config, ctx } = setup({ type: "AntiCurriculum" });
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    await cb.onTrainBegin(ctx);
    expect(Array.from(cb.sampler?.currentSubset() ?? []).sort((a, b) => a - b)).toEqual([2, 5, 7, 8, 9]);
  });

  it("RandomCurriculum is seeded: same seed same subset, ranks ignored", async () => {
    const subsets: string[] = [];
    for (const seed of [1, 1, 2, 3]) {
      const { config, ctx } = setup({ type: "RandomCurriculum", seed });
      const cb = createCurriculumCallback(config) as CurriculumPaceManager;
      await cb.onTrainBegin(ctx);
      subsets.push(Array.from(cb.sampler?.currentSubset() ?? []).join());
    }
    expect(subsets[0]).toBe(subsets[1]);
    expect(new Set(subsets).size).toBeGreaterThan(1);
  });

  it("BalancedCrossEntropy weights follow the subset; an absent class gets weight 0", async () => {
    // Unbalanced, s = 0.2 → 2 easiest samples: positions 0 (class 0), 1 (class 1); class 2 absent.
    const { config, ctx } = setup({
      criterion: "BalancedCrossEntropy",
      pacing: { initial_size: 0.2, final_iteration: 0.5 },
    });
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    await cb.onTrainBegin(ctx);
    expect(Array.from(ctx.weights ?? [])).toEqual([0.5, 0.5, 0]);
    await runEpochs(cb, ctx, 1, 2); // size 10 at epoch 2 (F = 2)
    const counts = [4, 3, 3];
    const inv = counts.map((n) => 1 / n);
    const total = inv.reduce((a, b) => a + b, 0);
    expectCloseTo(
      ctx.weights,
      inv.map((v) => v / total),
      6,
      "class weights",
    );
  });

  it("leaves class weights alone for plain CrossEntropy", async () => {
    const { config, ctx } = setup();
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    await cb.onTrainBegin(ctx);
    expect(ctx.weights).toBeNull();
  });

  it("a run resumed from saved state sees the same batches and schedule as one that ran straight through", async () => {
    for (const pacing of [
      {},
      { id: "Adaptive", type: "Adaptive", initial_size: 0.3, final_iteration: 0.9, patience: 1 },
    ]) {
      const metric = (e: number) => [0.5, 0.5, 0.4, 0.6, 0.6, 0.6, 0.7, 0.7][e - 1] as number;
      const straight = setup({ iterations: 8, pacing });
      const a = createCurriculumCallback(straight.config) as CurriculumPaceManager;
      await a.onTrainBegin(straight.ctx);
      const all = await runEpochs(a, straight.ctx, 1, 8, metric);
      await a.onTrainEnd(straight.ctx);

      const first = setup({ iterations: 8, pacing });
      const b = createCurriculumCallback(first.config) as CurriculumPaceManager;
      await b.onTrainBegin(first.ctx);
      const head = await runEpochs(b, first.ctx, 1, 3, metric);
      const saved = JSON.parse(JSON.stringify(b.getState()));

      // resume: state restored before train begin (and, second variant, after)
      for (const order of ["before", "after"] as const) {
        const again = setup({ iterations: 8, pacing });
        const c = createCurriculumCallback(again.config) as CurriculumPaceManager;
        if (order === "before") c.setState(saved);
        await c.onTrainBegin(again.ctx);
        if (order === "after") c.setState(saved);
        const tail = await runEpochs(c, again.ctx, 4, 8, metric);
        expect([...head, ...tail], `${pacing.id ?? "Linear"} restored ${order}`).toEqual(all);
        await c.onTrainEnd(again.ctx);
        expect(readFileSync(join(again.runDir, "pace.csv"), "utf8")).toBe(
          readFileSync(join(straight.runDir, "pace.csv"), "utf8"),
        );
      }
    }
  });

  it("Adaptive pacing grows on dev plateaus through onValidationEnd", async () => {
    const { config, ctx, runDir } = setup({
      iterations: 6,
      pacing: {
        id: "Adaptive",
        type: "Adaptive",
        initial_size: 0.2,
        final_iteration: 1,
        patience: 1,
        buckets: 4,
      },
    });
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    await cb.onTrainBegin(ctx);
    // bucket = trunc(0.8·10/4) = 2; stalls after epochs 2 and 3 → +2 each, then improvement
    const passes = await runEpochs(cb, ctx, 1, 6, (e) => [0.5, 0.5, 0.5, 0.9, 0.95, 0.99][e - 1] as number);
    expect(passes.map((p) => p.length)).toEqual([2, 2, 4, 6, 6, 6]);
    await cb.onTrainEnd(ctx);
    expect(readFileSync(join(runDir, "pace.csv"), "utf8")).toBe(
      "iteration,dataset_size\n0,2\n1,2\n2,4\n3,6\n4,6\n5,6\n6,10\n",
    );
  });
});
