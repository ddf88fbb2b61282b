import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { trainRun } from "../../src/assembly/train-run.js";
import { runDir } from "../../src/config/layout.js";
import { runName } from "../../src/config/naming.js";
import { ConfigError } from "../../src/util/errors.js";
import { digitsConfig, scoreCELoss as scoreFixture, trainDigitsRuns } from "./fixture.js";

/**
 * Score provenance: a score id is its config plus its inputs (the atomic runs and the fingerprints
 * of their training runs' outputs). Recomputing an id from another config or other runs is refused
 * unless forced, which keeps the old files aside; a curriculum run records the score it trained on
 * and is reported, not reused, once that score changed; mappings.yaml lists only finished scores.
 */
let resultsDir: string;
let runs: string[];
const celoss = () => join(resultsDir, "default", "curriculum", "CELoss");

function scoreCELoss(run: string, extra: string[] = [], force = false) {
  return scoreFixture(resultsDir, run, { extra, force });
}

beforeAll(async () => {
  ({ resultsDir, runs } = await trainDigitsRuns([1, 2]));
});
afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

describe("score provenance", () => {
  it("the card records the config and the fingerprint of every atomic run's inputs", async () => {
    await scoreCELoss(runs[0] as string);
    const card = parse(readFileSync(join(celoss(), "CELoss.yaml"), "utf8"));
    expect(card.provenance.config).toMatchObject({ id: "CELoss", run_name: runs[0], stop: "best" });
    expect(Object.keys(card.provenance.runs)).toEqual([`${runs[0]}_CrossEntropyLoss_b`]);
    expect(card.provenance.runs[`${runs[0]}_CrossEntropyLoss_b`]).toMatch(/^[0-9a-f]{16}$/);
    const inputs = parse(
      readFileSync(join(celoss(), `${runs[0]}_CrossEntropyLoss_b`, "inputs.yaml"), "utf8"),
    );
    expect(Object.keys(inputs.files)).toEqual([
      join("default", "training", runs[0] as string, "config.yaml"),
      join("default", "training", runs[0] as string, "metrics.csv"),
    ]);
    // The same request again reuses it.
    await expect(scoreCELoss(runs[0] as string)).resolves.toHaveLength(1);
  });

  it("re-scoring the id from other runs is refused, naming the differences; nothing is written", async () => {
    const before = readFileSync(join(celoss(), "CELoss.csv"));
    const failure = scoreCELoss(runs[1] as string);
    await expect(failure).rejects.toThrow(ConfigError);
    await expect(failure).rejects.toThrow(
      /score 'CELoss' exists .* and was made from another config or other runs[\s\S]*config\.run_name:[\s\S]*runs: .*_2_CrossEntropyLoss_b \(requested\) is not in the existing score/,
    );
    expect(readFileSync(join(celoss(), "CELoss.csv")).equals(before)).toBe(true);
    expect(existsSync(join(celoss(), `${runs[1]}_CrossEntropyLoss_b`))).toBe(false);
    expect(parse(readFileSync(join(celoss(), "mappings.yaml"), "utf8")).CELoss).toEqual([
      `${runs[0]}_CrossEntropyLoss_b`,
    ]);
    // Another config under the same id is refused too.
    await expect(scoreCELoss(runs[0] as string, ["curriculum.scoring.tie_break=random"])).rejects.toThrow(
      /config\.tie_break: "first" \(existing\) vs "random" \(requested\)/,
    );
  });

  it("with force it is recomputed and the old files are kept aside", async () => {
    const before = readFileSync(join(celoss(), "CELoss.csv"));
    await scoreCELoss(runs[1] as string, [], true);
    const replaced = readdirSync(join(celoss(), "_replaced"));
    expect(replaced).toHaveLength(1);
    expect(replaced[0]).toMatch(/^CELoss-\d{4}-/);
    const kept = join(celoss(), "_replaced", replaced[0] as string);
    expect(readFileSync(join(kept, "CELoss.csv")).equals(before)).toBe(true);
    expect(existsSync(join(kept, "CELoss.yaml"))).toBe(true);
    const card = parse(readFileSync(join(celoss(), "CELoss.yaml"), "utf8"));
    expect(card.provenance.config.run_name).toBe(runs[1]);
    expect(parse(readFileSync(join(celoss(), "mappings.yaml"), "utf8")).CELoss).toEqual([
      `${runs[1]}_CrossEntropyLoss_b`,
    ]);
  });

  it("an atomic run whose training run changed since is not reused silently", async () => {
    const run = join(resultsDir, "default", "training", runs[1] as string);
    const metrics = join(run, "metrics.csv");
    const original = readFileSync(metrics);
    writeFileSync(metrics, `${original.toString()}\n`);
    try {
      await expect(scoreCELoss(runs[1] as string)).rejects.toThrow(
        /runs: .*_2_CrossEntropyLoss_b: its inputs changed since it was scored/,
      );
    } finally {
      writeFileSync(metrics, original);
    }
    await expect(scoreCELoss(runs[1] as string)).resolves.toHaveLength(1);
  });

  it("a failed score leaves mappings.yaml without it", async () => {
    await expect(scoreCELoss("Nope_run", ["curriculum.scoring.id=CELoss-x"])).rejects.toThrow(
      /does not exist/,
    );
    expect(Object.keys(parse(readFileSync(join(celoss(), "mappings.yaml"), "utf8")))).toEqual(["CELoss"]);
  });
});

describe("a curriculum run records the score it was trained on", () => {
  it("a finished run whose score changed since is reported, not treated as done", async () => {
    const config = digitsConfig(resultsDir, 1, {
      iterations: 2,
      curriculum: {
        id: "Curriculum",
        type: "Curriculum",
        short: "C",
        scoring: { id: "CELoss", type: "CELoss" },
        pacing: { id: "Linear", type: "Linear", initial_size: 0.5, final_iteration: 0.5 },
        sampling: { id: "Balanced", short: "B" },
      },
    });
    const dir = runDir(resultsDir, "default", runName(config as unknown as Record<string, unknown>));
    await trainRun(config, { runDir: dir, log: null });
    const recorded = parse(readFileSync(join(dir, "curriculum_score.yaml"), "utf8"));
    expect(recorded).toMatchObject({ id: "CELoss", type: "CELoss" });
    expect(recorded.sha256).toMatch(/^[0-9a-f]{64}$/);
    await expect(trainRun(config, { runDir: dir, log: null })).resolves.toMatchObject({ skipped: true });
    // The score is recomputed from the other run.
    const saved = join(resultsDir, "saved-celoss");
    cpSync(celoss(), saved, { recursive: true });
    await scoreCELoss(runs[0] as string, [], true);
    const failure = trainRun(config, { runDir: dir, log: null });
    await expect(failure).rejects.toThrow(ConfigError);
    await expect(failure).rejects.toThrow(
      /curriculum_score\.yaml: curriculum\.scoring: the finished run was trained on .*CELoss\.csv, which has changed since/,
    );
    // With the score it was trained on back, it is the finished run again.
    rmSync(celoss(), { recursive: true });
    cpSync(saved, celoss(), { recursive: true });
    await expect(trainRun(config, { runDir: dir, log: null })).resolves.toMatchObject({ skipped: true });
  });
});
