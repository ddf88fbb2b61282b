import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { runName } from "../../src/config/naming.js";
import { RunConfigSchema, upgradeSavedConfig } from "../../src/config/schema.js";
import { configDifferences } from "../../src/training/resume.js";
import { loadNpy } from "../../src/util/npy.js";
import { type CliResult, runCli } from "../support/cli.js";

/**
 * Seeds that ensemble: a dataset's split is its config's `split_seed`, so `seed=1,2,3` runs share a
 * split and their `_#` ensemble scores work as in aucurriculum; `seed=1` and `seed=1-1` are one run;
 * scores built without a training run need no dataset seed; aggregating runs trained on different
 * data is refused, naming them.
 */
const cwd = mkdtempSync(join(tmpdir(), "curricula-seeds-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));
const training = join(cwd, "results", "default", "training");
const NAME = (seed: string) => `Digits_FFNN_Adam_0.001_32_epoch_2_None_None_N_N_None_None_1_0_${seed}`;

function cli(...args: string[]): CliResult {
  return runCli([...args, "--no-progress"], cwd);
}

describe("seeds that ensemble (CLI on Digits)", () => {
  it("seed=1,2,3 runs share one split, and a _# ensemble of their CELoss scores works", () => {
    const trained = cli("train", "iterations=2", "seed=1,2,3");
    expect(trained.code, trained.stderr).toBe(0);
    const targets = [1, 2, 3].map((s) =>
      Array.from(loadNpy(join(training, NAME(String(s)), "_best", "train_targets.npy")).data),
    );
    expect(targets[1]).toEqual(targets[0]);
    expect(targets[2]).toEqual(targets[0]);
    const config = parse(readFileSync(join(training, NAME("2"), "config.yaml"), "utf8"));
    expect(config.dataset.split_seed).toBe(1);

    const post = cli("postprocess", "results", "default", "-a", "seed");
    expect(post.code, post.stderr).toBe(0);
    const scored = cli("curriculum", "curriculum/scoring=CELoss", `curriculum.scoring.run_name=${NAME("#")}`);
    expect(scored.code, scored.stderr).toBe(0);
    const celoss = join(cwd, "results", "default", "curriculum", "CELoss");
    expect(readdirSync(celoss).filter((e) => e.endsWith("_CrossEntropyLoss_b"))).toHaveLength(3);
    expect(existsSync(join(celoss, "CELoss.csv"))).toBe(true);
  });

  it("re-scoring the ensemble's id from one run is refused; --force recomputes it and keeps the old files", () => {
    const refused = cli(
      "curriculum",
      "curriculum/scoring=CELoss",
      `curriculum.scoring.run_name=${NAME("1")}`,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/score 'CELoss' exists .* recompute with --force/);
    const forced = cli(
      "curriculum",
      "curriculum/scoring=CELoss",
      `curriculum.scoring.run_name=${NAME("1")}`,
      "--force",
    );
    expect(forced.code, forced.stderr).toBe(0);
    const replaced = join(cwd, "results", "default", "curriculum", "CELoss", "_replaced");
    expect(readdirSync(replaced)).toHaveLength(1);
    // Back to the ensemble for the tests below.
    expect(
      cli("curriculum", "curriculum/scoring=CELoss", `curriculum.scoring.run_name=${NAME("#")}`, "--force")
        .code,
    ).toBe(0);
  });

  it("seed=1 and seed=1-1 name one run", () => {
    const again = cli("train", "iterations=2", "seed=1-1");
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`skip   ${NAME("1")} (finished)`);
    expect(existsSync(join(training, NAME("1-1")))).toBe(false);
    expect(runName({ ...baseConfig(), seed: "1-1" })).toBe(runName({ ...baseConfig(), seed: 1 }));
    expect(RunConfigSchema.parse({ ...baseConfig(), seed: "3-3" }).seed).toBe(3);
    expect(RunConfigSchema.parse({ ...baseConfig(), seed: "3-1" }).seed).toBe("3-1");
  });

  it("a Random score needs no dataset seed: a seed-2 curriculum run trains with it", () => {
    const scored = cli("curriculum", "curriculum/scoring=Random", "curriculum.scoring.dataset=Digits");
    expect(scored.code, scored.stderr).toBe(0);
    const run = cli(
      "train",
      "iterations=2",
      "seed=2",
      "curriculum=Curriculum",
      "curriculum/scoring=Random",
      "curriculum/pacing=Linear",
      "curriculum/sampling=Balanced",
      "curriculum.pacing.initial_size=0.5",
      "curriculum.pacing.final_iteration=0.5",
    );
    expect(run.code, run.stderr).toBe(0);
    const old = cli(
      "curriculum",
      "curriculum/scoring=Random",
      "curriculum.scoring.dataset=Digits",
      "curriculum.scoring.dataset_seed=2",
    );
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(
      /curriculum\.scoring\.dataset_seed: no longer needed: a dataset's split is its config's split_seed/,
    );
  });

  it("aggregating over seed runs trained on different data is refused, naming the runs", () => {
    const other = cli("train", "iterations=2", "seed=4", "dataset.split_seed=7");
    expect(other.code, other.stderr).toBe(0);
    const post = cli("postprocess", "results", "default", "-a", "seed");
    expect(post.code).toBe(1);
    expect(post.stderr).toContain(
      "Cannot aggregate over seed: runs of one group were trained on different data",
    );
    expect(post.stderr).toContain(
      `${NAME("1")} and ${NAME("4")} differ in dataset.split_seed: 1 (${NAME("1")}) vs 7 (${NAME("4")})`,
    );
  });

  it("a run saved before split_seed existed keeps the split of its data seed (and is told apart)", () => {
    const legacy = join(cwd, "legacy");
    cpSync(join(training, NAME("2")), legacy, { recursive: true });
    const path = join(legacy, "config.yaml");
    const saved = parse(readFileSync(path, "utf8"));
    delete saved.dataset.split_seed;
    writeFileSync(path, stringify(saved));
    expect((upgradeSavedConfig(saved) as { dataset: { split_seed: number } }).dataset.split_seed).toBe(2);
    const requested = RunConfigSchema.parse({ ...saved, dataset: { ...saved.dataset } });
    expect(configDifferences(legacy, requested)).toEqual(["dataset.split_seed: 2 (saved) vs 1 (requested)"]);
    const seedOne = RunConfigSchema.parse({ ...saved, seed: 1 });
    const one = join(cwd, "legacy-1");
    cpSync(legacy, one, { recursive: true });
    writeFileSync(join(one, "config.yaml"), stringify({ ...saved, seed: 1 }));
    expect(configDifferences(one, seedOne)).toEqual([]);
  });
});

function baseConfig(): Record<string, unknown> {
  return {
    experiment_id: "default",
    seed: 1,
    batch_size: 32,
    learning_rate: 0.001,
    iterations: 2,
    dataset: { id: "Digits", type: "Digits" },
    model: { id: "FFNN", type: "FFNN" },
    optimizer: { id: "Adam", type: "Adam" },
  };
}

describe("scores of earlier versions", () => {
  it("an atomic run saved with dataset_seed reads as the dataset's split_seed", async () => {
    const { upgradeSavedScoreConfig } = await import("../../src/scoring/manager.js");
    const saved = { dataset: { id: "Digits", type: "Digits" }, seed: 1, dataset_seed: 1 };
    expect(upgradeSavedScoreConfig(saved)).toEqual({
      dataset: { id: "Digits", type: "Digits", split_seed: 1 },
      seed: 1,
    });
    // A training run's config (CELoss & co.) gets the split of its data seed.
    expect(upgradeSavedScoreConfig({ seed: "3-2", dataset: { id: "D" } })).toEqual({
      seed: "3-2",
      dataset: { id: "D", split_seed: 2 },
    });
  });
});
