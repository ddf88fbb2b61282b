import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findFailedRuns, rmFailed, rmStates } from "../../src/experiments/cleanup.js";
import { acquireLock } from "../../src/experiments/run-spec.js";
import { tempProject } from "../support/project.js";

const T = "results/default/training";

describe("rm-failed and rm-states", () => {
  it("deletes unfinished runs only, never one another process is training", () => {
    const cwd = tempProject({
      [`${T}/done/metrics.csv`]: "",
      [`${T}/crashed/config.yaml`]: "",
      [`${T}/running/config.yaml`]: "",
    });
    const results = join(cwd, "results");
    const lock = acquireLock(join(cwd, T, "running"));
    expect(findFailedRuns(results, "default")).toEqual({ failed: ["crashed"], busy: ["running"] });
    expect(rmFailed(results, "default")).toEqual(["crashed"]);
    expect(existsSync(join(cwd, T, "done"))).toBe(true);
    expect(existsSync(join(cwd, T, "running"))).toBe(true);
    if ("release" in lock) lock.release();
  });

  it("keeps _best states by default (the original's -b quirk fixed) and unfinished runs' checkpoints", () => {
    const cwd = tempProject({
      [`${T}/done/metrics.csv`]: "",
      [`${T}/done/epoch_1/model.json`]: "",
      [`${T}/done/epoch_1/dev.yaml`]: "",
      [`${T}/done/epoch_2/weights.bin`]: "",
      [`${T}/done/_best/model.json`]: "",
      [`${T}/crashed/epoch_1/model.json`]: "",
    });
    const results = join(cwd, "results");
    expect(rmStates(results, "default", { keepIterations: [2] }).map((f) => f.slice(cwd.length))).toEqual([
      `/${T}/done/epoch_1/model.json`,
    ]);
    expect(existsSync(join(cwd, T, "done", "epoch_1", "dev.yaml"))).toBe(true);
    expect(existsSync(join(cwd, T, "done", "_best", "model.json"))).toBe(true);
    expect(existsSync(join(cwd, T, "crashed", "epoch_1", "model.json"))).toBe(true);
    rmStates(results, "default", { deleteBest: true });
    expect(existsSync(join(cwd, T, "done", "_best", "model.json"))).toBe(false);
    expect(existsSync(join(cwd, T, "done", "epoch_2", "weights.bin"))).toBe(false);
  });
});
