import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { experimentDir, scoreFile, scoreTypeDir } from "../../src/config/layout.js";
import { runName } from "../../src/config/naming.js";
import { parseRunConfig } from "../../src/config/parse.js";
import { NONE_CURRICULUM } from "../../src/config/schema.js";
import { findStateFiles, rmFailed, rmStates } from "../../src/experiments/cleanup.js";
import { InProcessExecutor } from "../../src/experiments/executors/local.js";
import type { TrainFunction } from "../../src/experiments/run-spec.js";
import { train } from "../../src/experiments/train.js";
import { score } from "../../src/scoring/score.js";
import { StudySchema } from "../../src/study/schema.js";
import { ConfigError, CurriculaError } from "../../src/util/errors.js";
import { moveInsideResults, pathIdProblem, removeInsideResults } from "../../src/util/path-safety.js";
import { tempProject } from "../support/project.js";

/**
 * Ids that become paths are one path segment (no `/`, `\`, `..`, leading `.` or control
 * characters), and deletions and moves inside the results folder never follow a symbolic link out.
 */
const BAD_IDS = ["../../x", "a/b", "a\\b", "..", "a..b", ".hidden", "tab\there", "nul\u0000", "bell\u0007"];

describe("ids that become paths", () => {
  it("one rule: a single, visible, non-hidden path segment", () => {
    for (const id of BAD_IDS) expect(pathIdProblem(id), id).toBeDefined();
    for (const id of ["default", "CELoss", "CELoss-dev", "0.001", "1e-05", "my.study", "a-b"]) {
      expect(pathIdProblem(id), id).toBeUndefined();
    }
  });

  it("experiment ids are checked in run configs, study files and every results path", () => {
    const config = {
      experiment_id: "../../x",
      seed: 1,
      batch_size: 8,
      learning_rate: 0.1,
      iterations: 1,
      dataset: { id: "Toy", type: "Toy" },
      model: { id: "FFNN", type: "FFNN" },
      optimizer: { id: "Adam", type: "Adam" },
    };
    expect(() => parseRunConfig(config)).toThrow(/experiment_id: must not contain '\/'/);
    expect(() => parseRunConfig({ ...config, experiment_id: ".x" })).toThrow(/must not start with '\.'/);
    const study = StudySchema.safeParse({ experiment_id: "../x", scoring: { CELoss: null } });
    expect(study.success).toBe(false);
    // A study's scoring names become generated config files.
    expect(
      StudySchema.safeParse({ scoring: { "../CELoss": null }, curriculum: { scoring: "CELoss" } }).success,
    ).toBe(false);
    expect(
      StudySchema.safeParse({ scoring: { CELoss: null }, curriculum: { scoring: "CELoss" } }).success,
    ).toBe(true);
    expect(() => experimentDir("results", "../../x")).toThrow(ConfigError);
    expect(() => experimentDir("results", "../../x")).toThrow(/experiment_id: "\.\.\/\.\.\/x" must not/);
  });

  it("train with experiment_id=../../x writes nothing outside results_dir", async () => {
    const cwd = tempProject();
    const project = join(cwd, "project");
    mkdirSync(project);
    const calls: string[] = [];
    const fake: TrainFunction = async (_config, options) => {
      calls.push(options.runDir);
      throw new Error("must not be called");
    };
    const error = await train({
      cwd: project,
      log: null,
      overrides: ["experiment_id=../../x"],
      executor: new InProcessExecutor({ train: fake }),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(CurriculaError);
    expect(error.message).toMatch(/experiment_id/);
    expect(calls).toEqual([]);
    expect(readdirSync(cwd)).toEqual(["project"]);
  });

  it("run name fields (model, dataset, ... ids) are checked", () => {
    const base = {
      dataset: { id: "Digits" },
      model: { id: "FFNN" },
      optimizer: { id: "Adam" },
      learning_rate: 0.001,
      batch_size: 32,
      iterations: 10,
      curriculum: structuredClone(NONE_CURRICULUM),
      seed: 1,
    };
    expect(runName(base)).toMatch(/^Digits_FFNN/);
    expect(() => runName({ ...base, model: { id: "..\\x" } })).toThrow(/model\.id: .* must not contain/);
    expect(() => runName({ ...base, dataset: { id: ".x" } })).toThrow(/dataset\.id: .* must not start/);
    expect(() => runName({ ...base, optimizer: { id: "a\nb" } })).toThrow(/control characters/);
  });

  it("score ids and types are checked before anything is read or moved", async () => {
    expect(() => scoreFile("r", "default", { type: "CELoss", id: "../../training/run/metrics" })).toThrow(
      /curriculum\.scoring\.id/,
    );
    expect(() => scoreTypeDir("r", "default", { type: "../x", id: "CELoss" })).toThrow(
      /curriculum\.scoring\.type/,
    );
    const cwd = tempProject({ "results/default/training/run/metrics.csv": "accuracy,iteration\n1,1\n" });
    const metrics = join(cwd, "results/default/training/run/metrics.csv");
    const failure = score({
      log: () => {},
      force: true,
      cwd,
      overrides: [
        `results_dir=${join(cwd, "results")}`,
        "progress_bar=false",
        "curriculum/scoring=CELoss",
        "curriculum.scoring.run_name=run",
        "curriculum.scoring.id=../../training/run/metrics",
      ],
    });
    await expect(failure).rejects.toThrow(ConfigError);
    await expect(failure).rejects.toThrow(/curriculum\.scoring\.id: .* must not contain/);
    expect(readFileSync(metrics, "utf8")).toBe("accuracy,iteration\n1,1\n");
    expect(readdirSync(join(cwd, "results/default"))).toEqual(["training"]);
  });
});

describe("deletions never follow a symbolic link out of the results folder", () => {
  const T = "results/default/training";

  it("rm-states refuses a run or iteration folder that is a link to elsewhere; nothing is deleted", () => {
    const cwd = tempProject({
      "outside/run/metrics.csv": "",
      "outside/run/epoch_1/model.safetensors": "weights",
      "outside/epoch/model.safetensors": "weights",
      [`${T}/done/metrics.csv`]: "",
      [`${T}/done/epoch_2/model.safetensors`]: "",
    });
    const results = join(cwd, "results");
    symlinkSync(join(cwd, "outside", "run"), join(cwd, T, "linked"));
    // A linked run folder is no run folder.
    expect(rmStates(results, "default").map((f) => f.slice(cwd.length))).toEqual([
      `/${T}/done/epoch_2/model.safetensors`,
    ]);
    expect(existsSync(join(cwd, "outside/run/epoch_1/model.safetensors"))).toBe(true);
    // A linked iteration folder inside a run is refused, before anything is deleted.
    writeFileSync(join(cwd, T, "done/epoch_2/model.safetensors"), "");
    symlinkSync(join(cwd, "outside", "epoch"), join(cwd, T, "done", "epoch_1"));
    expect(() => findStateFiles(results, "default")).toThrow(/refusing to delete .*symbolic link/);
    expect(() => rmStates(results, "default")).toThrow(
      /refusing to delete .*epoch_1.*out of the results folder/,
    );
    expect(existsSync(join(cwd, "outside/epoch/model.safetensors"))).toBe(true);
    expect(existsSync(join(cwd, T, "done/epoch_2/model.safetensors"))).toBe(true);
  });

  it("rm-failed does not delete through a linked run folder", () => {
    const cwd = tempProject({
      "outside/crashed/config.yaml": "",
      [`${T}/crashed/config.yaml`]: "",
    });
    symlinkSync(join(cwd, "outside", "crashed"), join(cwd, T, "linked"));
    expect(rmFailed(join(cwd, "results"), "default")).toEqual(["crashed"]);
    expect(existsSync(join(cwd, "outside/crashed/config.yaml"))).toBe(true);
    expect(existsSync(join(cwd, T, "linked"))).toBe(true);
  });

  it("moves and deletions refuse paths whose folders lead out through a link", () => {
    const cwd = tempProject({
      "outside/CELoss.csv": "precious",
      "results/default/curriculum/CELoss/CELoss.csv": "score",
    });
    const results = join(cwd, "results");
    const type = join(results, "default/curriculum/CELoss");
    symlinkSync(join(cwd, "outside"), join(type, "_replaced"));
    symlinkSync(join(cwd, "outside"), join(results, "default/curriculum/Linked"));
    expect(() =>
      moveInsideResults(results, join(type, "CELoss.csv"), join(type, "_replaced", "x.csv")),
    ).toThrow(/refusing to move a file to/);
    expect(() => removeInsideResults(results, join(results, "default/curriculum/Linked/CELoss.csv"))).toThrow(
      /refusing to delete/,
    );
    expect(() => removeInsideResults(results, join(type, "_replaced"))).toThrow(/refusing to delete/);
    expect(readFileSync(join(cwd, "outside/CELoss.csv"), "utf8")).toBe("precious");
    expect(readFileSync(join(type, "CELoss.csv"), "utf8")).toBe("score");
    // Inside the results folder both work.
    mkdirSync(join(type, "_kept"));
    moveInsideResults(results, join(type, "CELoss.csv"), join(type, "_kept", "CELoss.csv"));
    removeInsideResults(results, join(type, "_kept"));
    expect(existsSync(join(type, "_kept"))).toBe(false);
  });
});
