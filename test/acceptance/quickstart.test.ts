import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type CliResult, runCli } from "../support/cli.js";

/**
 * The reference's quickstart (aucurriculum-behaviour.md §13) with the built CLI on Digits, as a user
 * types it: baseline, CELoss scores on it, Curriculum training with Balanced sampling and Linear and
 * Logarithmic pacing, postprocess aggregated over curriculum.pacing. `npm test` builds dist first.
 */
const cwd = mkdtempSync(join(tmpdir(), "curricula-quickstart-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function cli(...args: string[]): CliResult {
  return runCli([...args, "--no-progress"], cwd);
}

const training = join(cwd, "results", "default", "training");
const BASELINE = "Digits_FFNN_Adam_0.001_32_epoch_3_None_None_N_N_None_None_1_0_1";
const CURRICULUM = (pacing: string) =>
  `Digits_FFNN_Adam_0.001_32_epoch_3_None_None_C_B_CELoss_${pacing}_0.2_0.8_1`;

/** conf/config.yaml as `create --empty` wrote it, with the quickstart's curriculum keys. */
function curriculumTrainingYaml(): string {
  const base = readFileSync(join(cwd, "conf", "config.yaml"), "utf8");
  const replaced = base
    .replace(/^( {4}curriculum): None$/m, "$1: Curriculum")
    .replace(/^( {4}curriculum\/sampling): None$/m, "$1: Balanced")
    .replace(/^( {4}curriculum\/scoring): None$/m, "$1: CELoss")
    .replace(/^( {4}curriculum\/pacing): None$/m, "$1: [Linear, Logarithmic]")
    .replace(/^( {4}curriculum\.pacing\.initial_size): 1$/m, "$1: 0.2")
    .replace(/^( {4}curriculum\.pacing\.final_iteration): 0$/m, "$1: 0.8")
    .replace(/^iterations: \d+$/m, "iterations: 3");
  expect(replaced.match(/Curriculum|Balanced|CELoss|Logarithmic|0\.2|0\.8|iterations: 3/g)).toHaveLength(7);
  return replaced;
}

describe("quickstart (§13) end to end with the CLI on Digits", () => {
  it("create --empty, baseline, CELoss scores, curriculum training, postprocess -a curriculum.pacing", () => {
    // 1. an empty project
    expect(cli("create", "--empty").code).toBe(0);
    expect(readdirSync(join(cwd, "conf")).sort()).toEqual(["config.yaml", "curriculum.yaml"]);

    // 2. baseline
    const baseline = cli("train", "iterations=3");
    expect(baseline.code, baseline.stderr).toBe(0);
    expect(existsSync(join(training, BASELINE, "metrics.csv"))).toBe(true);

    // 3. conf/curriculum/scoring/CELoss.yaml naming the baseline; curriculum/scoring: CELoss
    mkdirSync(join(cwd, "conf", "curriculum", "scoring"), { recursive: true });
    writeFileSync(
      join(cwd, "conf", "curriculum", "scoring", "CELoss.yaml"),
      `id: CELoss\ntype: CELoss\nrun_name: ${BASELINE}\ncriterion: CrossEntropyLoss\nstop: best\nsubset: train\n`,
    );
    const entry = join(cwd, "conf", "curriculum.yaml");
    const scoringYaml = readFileSync(entry, "utf8");
    expect(scoringYaml).toMatch(/correlation_matrix: all/);
    writeFileSync(entry, scoringYaml.replace("curriculum/scoring: None", "curriculum/scoring: CELoss"));
    const scored = cli("curriculum");
    expect(scored.code, scored.stderr).toBe(0);
    const scoreFile = join(cwd, "results", "default", "curriculum", "CELoss", "CELoss.csv");
    const header = readFileSync(scoreFile, "utf8").split("\n")[0];
    expect(header).toBe("index,source_index,mean,ranks,encoded,decoded");

    // 4. conf/curriculum_training.yaml; train -cn curriculum_training gives the 2 curriculum runs
    writeFileSync(join(cwd, "conf", "curriculum_training.yaml"), curriculumTrainingYaml());
    const curriculum = cli("train", "-cn", "curriculum_training");
    expect(curriculum.code, curriculum.stderr).toBe(0);
    expect(curriculum.stderr).toMatch(/2 run\(s\): 2 trained, 0 skipped, 0 failed/);
    for (const pacing of ["Linear", "Logarithmic"]) {
      const pace = readFileSync(join(training, CURRICULUM(pacing), "pace.csv"), "utf8")
        .trim()
        .split("\n");
      expect(pace[0]).toBe("iteration,dataset_size");
      const sizes = pace.slice(1).map((l) => Number(l.split(",")[1]));
      const n = readFileSync(scoreFile, "utf8").trim().split("\n").length - 1;
      expect(sizes[0]).toBe(Math.trunc(0.2 * n));
      expect(sizes.at(-1)).toBe(n);
      for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeGreaterThanOrEqual(sizes[i - 1] ?? 0);
    }

    // 5. postprocess aggregated over the pacing: Linear and Logarithmic become one run
    const post = cli("postprocess", "results", "default", "-a", "curriculum.pacing");
    expect(post.code, post.stderr).toBe(0);
    const summary = join(cwd, "results", "default", "summary");
    expect(readFileSync(join(summary, "pace.csv"), "utf8").split("\n")[0]?.split(",").sort()).toEqual(
      ["iteration", CURRICULUM("Linear"), CURRICULUM("Logarithmic")].sort(),
    );
    const agg = join(cwd, "results", "default", "agg_curriculum.pacing");
    const aggregated = CURRICULUM("#");
    expect(parse(readFileSync(join(agg, aggregated, "runs.yaml"), "utf8")).sort()).toEqual(
      [CURRICULUM("Linear"), CURRICULUM("Logarithmic")].sort(),
    );
  }, 120_000);

  it("trains with curriculum/scoring=CELoss from the packaged config (its run_name: ??? is scoring-only)", () => {
    // the score file exists from the first case; no local CELoss.yaml this time
    rmSync(join(cwd, "conf", "curriculum", "scoring", "CELoss.yaml"));
    const r = cli(
      "train",
      "-cn",
      "curriculum_training",
      "experiment_id=default",
      "curriculum/pacing=Root",
      "iterations=2",
    );
    expect(r.code, r.stderr).toBe(0);
    const name = "Digits_FFNN_Adam_0.001_32_epoch_2_None_None_C_B_CELoss_Root_0.2_0.8_1";
    const saved = parse(readFileSync(join(training, name, "config.yaml"), "utf8"));
    expect(saved.curriculum.scoring).toEqual({ id: "CELoss", type: "CELoss" });
    // a missing score is an error naming the file and the command that creates it
    const missing = cli("train", "-cn", "curriculum_training", "curriculum/scoring=Random", "iterations=2");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /score file not found: .*curriculum\/Random\/Random\.csv.*curricula curriculum curriculum\/scoring=Random/,
    );
  }, 120_000);
});
