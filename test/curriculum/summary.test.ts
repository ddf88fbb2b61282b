import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { joinPaces, summarizePace } from "../../src/experiments/pace-summary.js";
import { writeCsv } from "../../src/util/csv.js";
import { writeYaml } from "../../src/util/yaml-io.js";
import { tempDir } from "./fakes.js";

function fakeRun(root: string, name: string, pace: Array<[number, number]> | null, best: number | null) {
  const dir = join(root, "exp", "training", name);
  mkdirSync(dir, { recursive: true });
  writeYaml(join(dir, "config.yaml"), { training_type: "epoch", dataset: { tracking_metric: "accuracy" } });
  if (best !== null) writeYaml(join(dir, "_best", "dev.yaml"), { accuracy: { all: best }, iteration: 2 });
  if (pace) {
    writeCsv(
      join(dir, "pace.csv"),
      ["iteration", "dataset_size"],
      pace.map(([iteration, dataset_size]) => ({ iteration, dataset_size })),
    );
  }
}

describe("summarizePace", () => {
  it("outer-joins every curriculum run's pace, best run first, and plots them", async () => {
    const root = tempDir();
    fakeRun(
      root,
      "A-run",
      [
        [0, 20],
        [1, 40],
        [2, 100],
      ],
      0.7,
    );
    fakeRun(
      root,
      "B-run",
      [
        [0, 50],
        [3, 100],
      ],
      0.9,
    );
    fakeRun(root, "C-baseline", null, 0.95); // no curriculum: not in the summary
    fakeRun(root, "D-unfinished", [[0, 10]], null);
    const summary = await summarizePace(root, "exp");
    expect(summary?.runs).toEqual(["B-run", "A-run", "D-unfinished"]);
    expect(readFileSync(join(root, "exp", "summary", "pace.csv"), "utf8")).toBe(
      "iteration,B-run,A-run,D-unfinished\n0,50,20,10\n1,,40,\n2,,100,\n3,100,,\n",
    );
    expect(existsSync(join(root, "exp", "summary", "plots", "curriculum_plots", "pace.png"))).toBe(true);
    expect(
      readFileSync(join(root, "exp", "summary", "plots", "curriculum_plots", "pace.svg"), "utf8"),
    ).toContain("<svg");
  });

  it("writes nothing when no run has a pace", async () => {
    const root = tempDir();
    fakeRun(root, "baseline", null, 0.5);
    expect(await summarizePace(root, "exp")).toBeNull();
    expect(await summarizePace(root, "missing")).toBeNull();
    expect(existsSync(join(root, "exp", "summary", "pace.csv"))).toBe(false);
  });

  it("joinPaces keeps every iteration of any run", () => {
    const joined = joinPaces([
      { run: "a", points: [{ iteration: 0, dataset_size: 1 }] },
      { run: "b", points: [{ iteration: 2, dataset_size: 3 }] },
    ]);
    expect(joined.columns).toEqual(["iteration", "a", "b"]);
    expect(joined.rows).toEqual([
      { iteration: 0, a: 1, b: "" },
      { iteration: 2, a: "", b: 3 },
    ]);
  });
});
