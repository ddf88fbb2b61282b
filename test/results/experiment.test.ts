import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RUN_FILES, trainingDir } from "../../src/config/layout.js";
import { listRuns } from "../../src/results/experiment.js";

describe("listRuns", () => {
  let root: string;
  let training: string;

  function run(name: string, finished: boolean): void {
    mkdirSync(join(training, name), { recursive: true });
    if (finished) writeFileSync(join(training, name, RUN_FILES.metrics), "iteration\n1\n");
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "curricula-list-runs-"));
    training = trainingDir(root, "exp");
    run("b_seed10", true);
    run("b_seed9", true);
    run("a_seed2", false);
    run("B_upper", true);
    // Not runs: the lock folder, a half-written atomic folder, a stray file.
    mkdirSync(join(training, ".locks"));
    writeFileSync(join(training, ".locks", "a_seed2.lock"), "{}");
    run("c_seed1.tmp-123-abcd", true);
    writeFileSync(join(training, "notes.txt"), "not a run");
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("lists run folders by name, without hidden, temporary or non-folder entries", () => {
    expect(listRuns(root, "exp")).toEqual(["B_upper", "a_seed2", "b_seed10", "b_seed9"]);
  });

  it("keeps finished or unfinished runs only when asked", () => {
    expect(listRuns(root, "exp", { finished: true })).toEqual(["B_upper", "b_seed10", "b_seed9"]);
    expect(listRuns(root, "exp", { finished: false })).toEqual(["a_seed2"]);
  });

  it("orders digits as numbers when asked for the natural order", () => {
    expect(listRuns(root, "exp", { finished: true, order: "natural" })).toEqual([
      "b_seed9",
      "b_seed10",
      "B_upper",
    ]);
  });

  it("lists no runs for an experiment without a training folder", () => {
    expect(listRuns(root, "missing")).toEqual([]);
    writeFileSync(join(root, "file-exp"), "");
    expect(listRuns(root, "file-exp")).toEqual([]);
  });
});
