import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPace } from "../../src/cli/commands/pace.js";
import { type CurriculumPaceManager, createCurriculumCallback } from "../../src/curriculum/index.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { curriculumConfig, fakeContext, fakeDataset, runEpochs, writeScores } from "./fakes.js";

let projectDir: string;

beforeAll(() => {
  // examples/custom-pacing laid out as a project: the module under pacing/, the config under conf/,
  // the module importing curricula from this checkout instead of the installed package.
  projectDir = mkdtempSync(join(tmpdir(), "curricula-custom-pacing-"));
  mkdirSync(join(projectDir, "pacing"));
  mkdirSync(join(projectDir, "conf", "curriculum", "pacing"), { recursive: true });
  const source = readFileSync(resolve("examples/custom-pacing/staircase.js"), "utf8");
  expect(source).toContain('from "curricula"');
  writeFileSync(
    join(projectDir, "pacing", "staircase.js"),
    source.replace('from "curricula"', `from "${resolve("src/curriculum/index.ts")}"`),
  );
  copyFileSync(
    resolve("examples/custom-pacing/Staircase.yaml"),
    join(projectDir, "conf", "curriculum", "pacing", "Staircase.yaml"),
  );
});

afterAll(() => rmSync(projectDir, { recursive: true, force: true }));

describe("custom pacing function (examples/custom-pacing, docs/tutorials/custom-pacing.md)", () => {
  it("`curricula pace Staircase` previews the example's schedule, as the tutorial shows", async () => {
    let printed = "";
    const sizes = await runPace(
      "Staircase",
      { initialSize: 0.5, finalIteration: 1, iterations: 8, datasetSize: 100, json: true },
      (text) => {
        printed += text;
      },
      projectDir,
    );
    expect(sizes).toEqual([50, 50, 62, 62, 75, 75, 87, 87, 100]);
    expect(printed).toBe("[50,50,62,62,75,75,87,87,100]\n");
  });

  it("a curriculum run takes the example's pacing from its module, with the config's steps", async () => {
    const pacing = readYaml<Record<string, unknown>>(
      join(projectDir, "conf", "curriculum", "pacing", "Staircase.yaml"),
    );
    const config = curriculumConfig(projectDir, {
      iterations: 8,
      pacing: {
        ...pacing,
        module: join(projectDir, "pacing", "staircase.js"),
        initial_size: 0.5,
        final_iteration: 1,
      },
    });
    writeScores(config, [0.0, 0.1, 0.9, 0.2, 0.3, 0.8, 0.4, 0.5, 0.7, 0.6]);
    const ctx = fakeContext(config, fakeDataset([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 3), join(projectDir, "run"));
    const cb = createCurriculumCallback(config) as CurriculumPaceManager;
    await cb.onTrainBegin(ctx);
    const passes = await runEpochs(cb, ctx, 1, 8);
    // 10 samples, s = 0.5, 4 steps reaching the full set at iteration 8: 5, 5, 6, 6, 7, 7, 8, 8, 10
    expect(passes.map((p) => p.length)).toEqual([5, 5, 6, 6, 7, 7, 8, 8]);
  });
});
