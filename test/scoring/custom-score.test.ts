import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readScoreRows } from "../../src/results/score-table.js";
import { CurriculumScoreManager } from "../../src/scoring/manager.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { trainDigitsRuns } from "./fixture.js";

let resultsDir: string;
let runs: string[];
let projectDir: string;

beforeAll(async () => {
  ({ resultsDir, runs } = await trainDigitsRuns([1]));
  // The tutorial's module, importing curricula from this checkout instead of the installed package.
  projectDir = mkdtempSync(join(tmpdir(), "curricula-custom-"));
  const source = readFileSync(resolve("examples/custom-score/max-probability.js"), "utf8");
  writeFileSync(
    join(projectDir, "max-probability.js"),
    source.replace('from "curricula"', `from "${resolve("src/scoring/index.ts")}"`),
  );
  copyFileSync(resolve("examples/custom-score/MaxProbability.yaml"), join(projectDir, "MaxProbability.yaml"));
});

afterAll(() => {
  rmSync(resultsDir, { recursive: true, force: true });
  rmSync(projectDir, { recursive: true, force: true });
});

describe("custom scoring function (docs/tutorials/custom-score.md)", () => {
  it("runs the tutorial's MaxProbability module named in a config", async () => {
    const scoring = {
      ...readYaml<Record<string, unknown>>(join(projectDir, "MaxProbability.yaml")),
      run_name: runs[0],
    };
    const manager = await CurriculumScoreManager.create(
      {
        results_dir: resultsDir,
        experiment_id: "default",
        progress_bar: false,
        plots: false,
        correlation: null,
        curriculum: { scoring },
      },
      { cwd: projectDir, log: () => {} },
    );
    const result = await manager.execute();
    const rows = readScoreRows(result.scoreFile);
    const mean = rows.columns.get("mean") as Float64Array;
    expect(mean.length).toBe(rows.index.length);
    expect(mean.length).toBeGreaterThan(0);
    for (const p of mean) expect(p > 0.1 && p <= 1).toBe(true);
    // reverse: the most confident sample is the easiest
    expect(mean[(rows.columns.get("ranks") as Float64Array).indexOf(0)]).toBe(Math.max(...mean));
    expect(result.scoreFile).toBe(
      join(resultsDir, "default", "curriculum", "MaxProbability", "MaxProbability.csv"),
    );
  });

  it("names the module and the missing export when the class is not there", async () => {
    const scoring = { id: "X", type: "X", module: "./max-probability.js", class: "Nope", run_name: runs[0] };
    await expect(
      CurriculumScoreManager.create(
        { results_dir: resultsDir, experiment_id: "default", curriculum: { scoring } },
        { cwd: projectDir },
      ),
    ).rejects.toThrow(
      /max-probability\.js has no exported subclass of AbstractScore named 'Nope' \(exports: .*MaxProbability/,
    );
  });
});
