import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { register } from "../../src/cli/commands/curriculum.js";
import { readScoreRows } from "../../src/results/score-table.js";
import { score } from "../../src/scoring/score.js";
import { loadNpy } from "../../src/util/npy.js";
import { trainDigitsRuns } from "./fixture.js";

let resultsDir: string;
let run: string;
let n: number;

beforeAll(async () => {
  ({
    resultsDir,
    runs: [run = ""],
  } = await trainDigitsRuns([1]));
  n = loadNpy(join(resultsDir, "default", "training", run, "_best", "train_indices.npy")).data.length;
});

afterAll(() => {
  rmSync(resultsDir, { recursive: true, force: true });
});

const base = () => [`results_dir=${resultsDir}`, "progress_bar=false", "plots=false"];

/** Every scoring function from its packaged config plus command-line style overrides. */
const CASES: [string, string[]][] = [
  ["CELoss", ["curriculum.scoring.run_name=RUN"]],
  ["CumulativeAccuracy", ["curriculum.scoring.run_name=RUN"]],
  ["FirstIteration", ["curriculum.scoring.run_name=RUN", "curriculum.scoring.stop=last"]],
  [
    "CVLoss",
    [
      "curriculum.scoring.splits=2",
      ...[
        "dataset=Digits",
        "model=FFNN",
        "optimizer=Adam",
        "learning_rate=0.01",
        "seed=1",
        "batch_size=32",
        "iterations=1",
      ].map((kv) => `curriculum.scoring.setup.${kv}`),
    ],
  ],
  [
    "PredictionDepth",
    [
      "curriculum.scoring.run_name=RUN",
      "curriculum.scoring.probe_placements=[linear0]",
      "curriculum.scoring.max_embedding_size=16",
    ],
  ],
  ["TransferTeacher", ["curriculum.scoring.model=RUN", "curriculum.scoring.dataset=Digits"]],
  [
    "Predefined",
    [
      "curriculum.scoring.file=FILE",
      "curriculum.scoring.scores_column=difficulty",
      "curriculum.scoring.reverse=true",
      "curriculum.scoring.dataset=Digits",
    ],
  ],
  ["Random", ["curriculum.scoring.dataset=Digits"]],
];

describe("score(): every function from the packaged config and overrides", () => {
  it.each(CASES)("%s", async (type, overrides) => {
    const file = join(resultsDir, "difficulty.csv");
    if (type === "Predefined")
      writeFileSync(file, `difficulty\n${Array.from({ length: n }, (_, i) => i % 13).join("\n")}\n`);
    const resolved = overrides.map((o) => o.replace("RUN", run).replace("FILE", file));
    const results = await score({
      overrides: [...base(), `curriculum/scoring=${type}`, ...resolved],
      cwd: resultsDir,
      log: () => {},
    });
    expect(results.map((r) => r.id)).toEqual([type]);
    const rows = readScoreRows(results[0]?.result.scoreFile as string);
    expect(rows.index.length).toBe(n);
    expect(results[0]?.result.matrices[0]?.ids).toContain(type);
  });

  it("sweeps curriculum/scoring=A,B and refuses the None placeholder", async () => {
    const results = await score({
      overrides: [...base(), "curriculum/scoring=Random,CELoss", "curriculum.scoring.dataset=Digits"],
      cwd: resultsDir,
      log: () => {},
    }).catch((e) => e);
    // the CELoss point still lacks its run_name: the error names the file and the key
    expect(String(results)).toMatch(/CELoss\.yaml: curriculum\.scoring\.run_name: required value missing/);
    await expect(score({ overrides: base(), cwd: resultsDir })).rejects.toThrow(
      "No scoring function provided.",
    );
  });
});

describe("curricula curriculum (alias score)", () => {
  it("computes a score from the command line", async () => {
    const program = new Command().exitOverride();
    register(program);
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      await program.parseAsync(
        [
          "score",
          ...base(),
          "curriculum/scoring=Random",
          "curriculum.scoring.dataset=Digits",
          "curriculum.scoring.seed=5",
          // another id: the Random score of seed 1 above is another score
          "curriculum.scoring.id=Random-5",
        ],
        { from: "user" },
      );
    } finally {
      process.stdout.write = write;
    }
    expect(out.join("")).toMatch(/Random\/Random-5: .*Random-5\.csv/);
    expect(existsSync(join(resultsDir, "default", "curriculum", "Random", "Digits_5", "scores.csv"))).toBe(
      true,
    );
  });
});
