import { cpSync, existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { trainRun } from "../../src/assembly/train-run.js";
import { DataError } from "../../src/util/errors.js";
import { decodeNpy, encodeNpy, loadNpy } from "../../src/util/npy.js";
import { digitsConfig, scoreCELoss as scoreFixture, trainDigitsRuns } from "./fixture.js";

/**
 * Damaged files name themselves: a truncated .npy, a truncated model file, a model that does not
 * match its config.yaml are each one error naming the file and what was expected, and a failed score
 * leaves no half-written atomic-run folder behind.
 */

/** A length that keeps a safetensors file's header (with the model spec) and cuts its tensors. */
function keepHeader(path: string): number {
  const bytes = readFileSync(path);
  return 8 + Number(bytes.readBigUInt64LE(0)) + 40;
}
let resultsDir: string;
let run: string;
let pristine: string;
const runDir = () => join(resultsDir, "default", "training", run);
const celoss = join("curriculum", "CELoss");

beforeAll(async () => {
  ({
    resultsDir,
    runs: [run = ""],
  } = await trainDigitsRuns([1]));
  pristine = `${resultsDir}-pristine`;
  cpSync(resultsDir, pristine, { recursive: true });
});
afterAll(() => {
  rmSync(resultsDir, { recursive: true, force: true });
  rmSync(pristine, { recursive: true, force: true });
});

/** Restores the trained run, then applies `damage` to it. */
function damaged(damage: (dir: string) => void): void {
  rmSync(resultsDir, { recursive: true, force: true });
  cpSync(pristine, resultsDir, { recursive: true });
  damage(runDir());
}

function scoreCELoss(): Promise<unknown> {
  return scoreFixture(resultsDir, run);
}

/** The CELoss folder holds no atomic-run folder and no score file (the score's lock folder aside). */
function expectNothingHalfWritten(): void {
  const dir = join(resultsDir, "default", celoss);
  const entries = existsSync(dir) ? readdirSync(dir) : [];
  expect(entries.filter((e) => e !== "mappings.yaml" && e !== ".locks")).toEqual([]);
  expect(existsSync(join(dir, ".locks")) ? readdirSync(join(dir, ".locks")) : []).toEqual([]);
}

describe("damaged files", () => {
  it("decodeNpy refuses a truncated file with the shape and byte counts", () => {
    const bytes = encodeNpy(new Float32Array(1079 * 10), [1079, 10]);
    expect(() => decodeNpy(bytes.subarray(0, 200), "x.npy")).toThrow(
      /^x\.npy: truncated \.npy file: its header says shape \(1079, 10\) of <f4 = 43160 bytes of data, the file holds 72$/,
    );
    expect(() => decodeNpy(bytes.subarray(0, 5), "x.npy")).toThrow(/x\.npy: not a \.npy file/);
    expect(decodeNpy(bytes, "x.npy").shape).toEqual([1079, 10]);
  });

  it("a truncated per-sample output is one DataError naming the file; no atomic run is left", async () => {
    damaged((dir) => truncateSync(join(dir, "_best", "train_outputs.npy"), 200));
    const failure = scoreCELoss();
    await expect(failure).rejects.toThrow(DataError);
    await expect(failure).rejects.toThrow(
      /_best\/train_outputs\.npy: truncated \.npy file: its header says shape/,
    );
    expectNothingHalfWritten();
    expect(() => loadNpy(join(runDir(), "_best", "train_outputs.npy"))).toThrow(DataError);
  });

  it("a truncated model.safetensors names the file and the bytes its header lists", async () => {
    damaged((dir) => {
      rmSync(join(dir, "_best", "train_outputs.npy")); // the score has to load the model
      truncateSync(
        join(dir, "_best", "model.safetensors"),
        keepHeader(join(dir, "_best", "model.safetensors")),
      );
    });
    await expect(scoreCELoss()).rejects.toThrow(
      /_best\/model\.safetensors: truncated: tensor '[\w.]+' needs bytes up to \d+, the file has \d+/,
    );
    expectNothingHalfWritten();
  });

  it("a model that does not match its config.yaml names model.json and the differing keys", async () => {
    damaged((dir) => {
      const path = join(dir, "config.yaml");
      const config = parse(readFileSync(path, "utf8")) as { model: { hidden_sizes: number[] } };
      config.model.hidden_sizes = [32];
      writeFileSync(path, stringify(config));
    });
    await expect(scoreCELoss()).rejects.toThrow(
      /_best\/model\.safetensors: the saved model does not match the network .*config\.yaml describes:\n {2}params\.hidden_sizes\[0\]: 16 \(saved model\) vs 32 \(config\)/,
    );
    expectNothingHalfWritten();
  });

  // A finished run keeps no resume snapshots (.resume/), so once its metrics.csv is gone no
  // checkpoint can be resumed: the error lists each checkpoint's problem and names the way out.
  it("a crashed run with no intact checkpoint fails naming each checkpoint and the way out, and its log holds the error", async () => {
    damaged((dir) => {
      rmSync(join(dir, "metrics.csv")); // unfinished: training resumes from the last checkpoint
      truncateSync(
        join(dir, "epoch_3", "model.safetensors"),
        keepHeader(join(dir, "epoch_3", "model.safetensors")),
      );
    });
    const config = digitsConfig(resultsDir, 1);
    const failure = trainRun(config, { runDir: runDir(), log: null });
    await expect(failure).rejects.toThrow(
      /no intact checkpoint to resume from:\n {2}epoch_3: .*\n {2}epoch_2: .*\n {2}epoch_1: .*\n.*rm-failed/,
    );
    expect(readFileSync(join(runDir(), "training.log"), "utf8")).toMatch(
      /Failed: .*no intact checkpoint to resume from/,
    );
  });
});
