import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CurriculumScoreManager } from "../../src/scoring/manager.js";
import { score } from "../../src/scoring/score.js";
import { acquireLock } from "../../src/util/lock.js";
import { loadNpy, saveNpy } from "../../src/util/npy.js";
import { runCli } from "../support/cli.js";
import { scoreCELoss, trainDigitsRuns } from "./fixture.js";

/**
 * Faults while scoring: a score stopped between its CSV and its card, a score id another process
 * is computing, temporary files left by a killed command, a diverged run's NaN outputs, and a
 * Predefined file that is not what was expected.
 */
let resultsDir: string;
let runs: string[];
const celoss = () => join(resultsDir, "default", "curriculum", "CELoss");
const ensemble = (extra: string[] = [], force = false) =>
  scoreCELoss(resultsDir, `[${runs.join(",")}]`, { extra: ["plots=true", ...extra], force });

/** Every file under `dir` with its bytes, the card's timing lines left out. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (folder: string, rel: string) => {
    for (const name of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, name.name);
      const key = rel ? `${rel}/${name.name}` : name.name;
      if (name.isDirectory()) visit(path, key);
      else if (name.name !== "timer.yaml")
        out[key] = readFileSync(path, "utf8").replace(/^(time_seconds|created):.*$/gm, "");
    }
  };
  visit(dir, "");
  return out;
}

/** A pid that is not running: a process that has exited. */
function deadPid(): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["-e", ""]);
    child.on("close", () => done(child.pid as number));
  });
}

beforeAll(async () => {
  ({ resultsDir, runs } = await trainDigitsRuns([1, 2]));
});
afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

describe("a score stopped before its card", () => {
  it("is recomputed without --force, to the same files", async () => {
    await ensemble();
    const reference = snapshot(celoss());
    expect(Object.keys(reference)).toContain("CELoss.yaml");
    // Stopped after its CSV, robustness and plots: no card.
    rmSync(join(celoss(), "CELoss.yaml"));
    await ensemble();
    expect(snapshot(celoss())).toEqual(reference);
  });

  it("is recomputed even from another config (it was never finished); a finished one is still refused", async () => {
    rmSync(join(celoss(), "CELoss.yaml"));
    await ensemble(["curriculum.scoring.tie_break=random"]);
    const card = readFileSync(join(celoss(), "CELoss.yaml"), "utf8");
    expect(card).toMatch(/tie_break: random/);
    await expect(ensemble()).rejects.toThrow(/score 'CELoss' exists .* made from another config/);
    await ensemble([], true); // back to the default config
  });
});

describe("a score id another process is computing", () => {
  it("is reported busy, as a busy run is, and its files are left alone", async () => {
    const before = snapshot(celoss());
    const lock = acquireLock(join(celoss(), "CELoss.csv"));
    if (!("release" in lock)) throw new Error("could not take the lock");
    const lines: string[] = [];
    try {
      const failure = score({
        log: (l) => lines.push(l),
        overrides: [
          `results_dir=${resultsDir}`,
          "progress_bar=false",
          "correlation=null",
          "curriculum/scoring=CELoss",
          `curriculum.scoring.run_name=[${runs.join(",")}]`,
        ],
      });
      await expect(failure).rejects.toThrow(/1 score\(s\) busy elsewhere, not computed here: CELoss\/CELoss/);
    } finally {
      lock.release();
    }
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`^busy   CELoss/CELoss: being scored by pid ${process.pid} on .* since `),
      ),
    );
    expect(snapshot(celoss())).toEqual(before);
  });
});

describe("a score id another process is computing, from the command line (needs dist/ built)", () => {
  it("exits 1 naming the holder, with no raw file-system error", async () => {
    const lock = acquireLock(join(celoss(), "CELoss.csv"));
    if (!("release" in lock)) throw new Error("could not take the lock");
    let result: ReturnType<typeof runCli>;
    try {
      result = runCli(
        [
          "curriculum",
          "--no-progress",
          `results_dir=${resultsDir}`,
          "correlation=null",
          "curriculum/scoring=CELoss",
          `curriculum.scoring.run_name=[${runs.join(",")}]`,
        ],
        resultsDir,
      );
    } finally {
      lock.release();
    }
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(1);
    expect(output).toMatch(new RegExp(`busy   CELoss/CELoss: being scored by pid ${process.pid} on `));
    expect(output).toMatch(/1 score\(s\) busy elsewhere/);
    expect(output).not.toMatch(/ENOENT|EEXIST/);
  });
});

describe("a CVLoss fold another process is training", () => {
  it("is not trained a second time: the score fails naming the holder", async () => {
    const scoring = {
      id: "CVLossFold",
      type: "CVLoss",
      splits: 2,
      setup: {
        dataset: "Digits",
        model: "FFNN",
        optimizer: "Adam",
        learning_rate: 0.01,
        seed: 1,
        batch_size: 32,
        iterations: 1,
      },
    };
    const config = {
      results_dir: resultsDir,
      experiment_id: "default",
      progress_bar: false,
      plots: false,
      correlation: null,
      curriculum: { scoring },
    };
    const manager = await CurriculumScoreManager.create(config, { log: () => {} });
    const folds = await manager.preprocess();
    const fold = join(resultsDir, "default", "curriculum", "CVLoss", folds[0]?.name as string);
    const lock = acquireLock(fold);
    if (!("release" in lock)) throw new Error("could not take the lock");
    try {
      const again = await CurriculumScoreManager.create(config, { log: () => {} });
      await expect(again.execute()).rejects.toThrow(
        new RegExp(`${folds[0]?.name}: busy: being trained by pid ${process.pid} on `),
      );
      expect(existsSync(join(fold, "metrics.csv"))).toBe(false);
    } finally {
      lock.release();
    }
  });
});

describe("temporary files of a killed command", () => {
  it("are removed by the next scoring run; those of live processes are kept", async () => {
    const dead = await deadPid();
    const curriculum = join(resultsDir, "default", "curriculum");
    const stale = [
      join(celoss(), `CELoss.csv.tmp-${dead}-0a1b2c3d`),
      join(celoss(), "_plots", "CELoss", `scores.png.tmp-${dead}-00ff00ff`),
      join(curriculum, `correlation_matrix.csv.tmp-${dead}-12345678`),
    ];
    const staleDir = join(celoss(), `${runs[0]}_CrossEntropyLoss_b.tmp-${dead}-abcdef01`);
    const live = join(celoss(), `mappings.yaml.tmp-${process.pid}-deadbeef`);
    for (const path of [...stale, live]) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, "partial");
    }
    mkdirSync(staleDir);
    writeFileSync(join(staleDir, "scores.csv"), "partial");
    await ensemble();
    for (const path of [...stale, staleDir]) expect(existsSync(path), path).toBe(false);
    expect(existsSync(live)).toBe(true);
    rmSync(live);
  });
});

describe("non-finite values", () => {
  it("a run whose outputs are NaN (a diverged run) fails naming the run and the samples; nothing is written", async () => {
    // A hand-made diverged run: a copy of a trained run whose saved logits are NaN for some samples.
    const training = join(resultsDir, "default", "training");
    const name = (runs[1] as string).replace(/_2$/, "_3");
    expect(name).not.toBe(runs[1]);
    cpSync(join(training, runs[1] as string), join(training, name), { recursive: true });
    const outputs = join(training, name, "_best", "train_outputs.npy");
    const saved = loadNpy(outputs);
    const logits = Float32Array.from(saved.data as Float32Array);
    for (const row of [0, 5, 6]) logits.fill(Number.NaN, row * 10, row * 10 + 10);
    saveNpy(outputs, logits, saved.shape);
    const failure = scoreCELoss(resultsDir, name, { extra: ["curriculum.scoring.id=Diverged"] });
    await expect(failure).rejects.toThrow(
      new RegExp(
        `${name}_CrossEntropyLoss_b: non-finite scores \\(scores: 3 of \\d+ samples, e\\.g\\. \\d+ \\(source_index \\d+\\), .*\\); the training run .*${name} diverged`,
      ),
    );
    expect(existsSync(join(celoss(), "Diverged.csv"))).toBe(false);
    expect(existsSync(join(celoss(), `${name}_CrossEntropyLoss_b`))).toBe(false);
    rmSync(join(training, name), { recursive: true });
  });
});

describe("Predefined", () => {
  it("pointed at a file that is not a score table: names the file and what was expected, never its content", async () => {
    const dir = mkdtempSync(join(tmpdir(), "predefined-"));
    const secrets = [
      ["credentials.txt", "password=hunter2-secret\nmore\n"],
      ["quoted.txt", 'a,"hunter2-secret\n'],
    ];
    for (const [file, content] of secrets) {
      const path = join(dir, file as string);
      writeFileSync(path, content as string);
      const failure = score({
        log: () => {},
        overrides: [
          `results_dir=${resultsDir}`,
          "progress_bar=false",
          "correlation=null",
          "curriculum/scoring=Predefined",
          `curriculum.scoring.file=${path}`,
          "curriculum.scoring.scores_column=difficulty",
          "curriculum.scoring.dataset=Digits",
          "curriculum.scoring.reverse=false",
        ],
      });
      const error = await failure.then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toContain(path);
      expect(error?.message).toMatch(/expected a CSV file whose header row names the column 'difficulty'/);
      expect(error?.message).not.toContain("hunter2");
    }
  });
});
