import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadNpy } from "../../src/util/npy.js";
import { type CliResult, runCli } from "../support/cli.js";

/**
 * Issue 4's acceptance with the built CLI, as a user works: three seeds (sharing the dataset's split),
 * `postprocess -a seed`, then every scoring function from its own file in conf/curriculum/scoring/
 * in one `curricula curriculum` sweep; CELoss on the aggregated name is an ensemble of the 3 seeds and
 * the correlation matrix covers all 8 scores. `npm test` builds dist first.
 */
const cwd = mkdtempSync(join(tmpdir(), "curricula-scoring-cli-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function cli(...args: string[]): CliResult {
  return runCli([...args, "--no-progress"], cwd);
}

const RUN = "Digits_FFNN_Adam_0.001_32_epoch_3_None_None_N_N_None_None_1_0_";
const SEEDS = ["1", "2", "3"].map((s) => `${RUN}${s}`);
const FUNCTIONS = [
  "CELoss",
  "CumulativeAccuracy",
  "FirstIteration",
  "CVLoss",
  "PredictionDepth",
  "TransferTeacher",
  "Predefined",
  "Random",
];

function scoringConfigs(n: number): Record<string, string> {
  writeFileSync(
    join(cwd, "difficulty.csv"),
    `difficulty\n${Array.from({ length: n }, (_, i) => (i * 7) % 13).join("\n")}\n`,
  );
  return {
    CELoss: `id: CELoss\ntype: CELoss\nrun_name: ${RUN}#\ncriterion: CrossEntropyLoss\nstop: best\n`,
    CumulativeAccuracy: `id: CumulativeAccuracy\ntype: CumulativeAccuracy\nrun_name: [${SEEDS[0]}, ${SEEDS[1]}]\n`,
    FirstIteration: `id: FirstIteration\ntype: FirstIteration\nrun_name: ${SEEDS[0]}\nstop: last\n`,
    CVLoss: [
      "id: CVLoss",
      "type: CVLoss",
      "splits: 2",
      "setup:",
      "  filters: null",
      ...[
        "dataset: Digits",
        "model: FFNN",
        "optimizer: Adam",
        "learning_rate: 0.01",
        "scheduler: None",
        "augmentation: None",
        "seed: 1",
        "batch_size: 32",
        "inference_batch_size: 256",
        "training_type: epoch",
        "iterations: 1",
        "eval_frequency: 1",
        "save_frequency: 1",
        "save_train_outputs: true",
        "save_dev_outputs: true",
        "save_test_outputs: true",
      ].map((l) => `  ${l}`),
      "",
    ].join("\n"),
    PredictionDepth: `id: PredictionDepth\ntype: PredictionDepth\nrun_name: ${SEEDS[0]}\nprobe_placements: ["linear\\\\d+"]\nmax_embedding_size: 32\n`,
    TransferTeacher: `id: TransferTeacher\ntype: TransferTeacher\nmodel: ${SEEDS[0]}\ndataset: Digits\n`,
    Predefined: `id: Predefined\ntype: Predefined\nfile: difficulty.csv\nscores_column: difficulty\nreverse: false\ndataset: Digits\n`,
    Random: "id: Random\ntype: Random\ndataset: Digits\nseed: 3\n",
  };
}

describe("every scoring function from a config with the CLI on Digits", () => {
  it("8 functions, an ensemble of 3 seeds through an aggregated name, a correlation matrix over all", () => {
    expect(cli("create", "--empty").code).toBe(0);
    const trained = cli("train", "iterations=3", "seed=1,2,3", "--jobs", "2");
    expect(trained.code, trained.stderr).toBe(0);
    const post = cli("postprocess", "results", "default", "-a", "seed");
    expect(post.code, post.stderr).toBe(0);

    const n = loadNpy(
      join(cwd, "results", "default", "training", SEEDS[0] as string, "_best", "train_indices.npy"),
    ).data.length;
    expect(n).toBeGreaterThan(1000);
    const dir = join(cwd, "conf", "curriculum", "scoring");
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(scoringConfigs(n)))
      writeFileSync(join(dir, `${name}.yaml`), text);

    const scored = cli("curriculum", `curriculum/scoring=${FUNCTIONS.join(",")}`);
    expect(scored.code, scored.stderr).toBe(0);
    const out = join(cwd, "results", "default", "curriculum");
    for (const fn of FUNCTIONS) {
      const lines = readFileSync(join(out, fn, `${fn}.csv`), "utf8")
        .trim()
        .split("\n");
      expect(lines[0], fn).toMatch(/^index,source_index,.*mean,ranks,encoded,decoded$/);
      expect(lines.length - 1, fn).toBe(n);
    }
    // CELoss on the aggregated name: the three seeds' runs, averaged
    const card = parse(readFileSync(join(out, "CELoss", "CELoss.yaml"), "utf8"));
    expect(card.training_runs).toEqual(SEEDS);
    expect(card.runs).toHaveLength(3);
    expect(parse(readFileSync(join(out, "CELoss", "mappings.yaml"), "utf8")).CELoss).toHaveLength(3);
    // the correlation matrix covers every computed score
    const matrix = readFileSync(join(out, "correlation_matrix.csv"), "utf8").trim().split("\n");
    expect(matrix[0]?.split(",").slice(1).sort()).toEqual([...FUNCTIONS].sort());
    expect(matrix).toHaveLength(FUNCTIONS.length + 1);

    // a second call finds every score and recomputes nothing
    const again = cli("curriculum", `curriculum/scoring=${FUNCTIONS.join(",")}`);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr + again.stdout).not.toMatch(/^Scoring /m);
  }, 120_000);
});
