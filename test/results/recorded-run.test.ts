/**
 * The readers of recorded runs (src/results/recorded-run.ts): each format into the same rows, and
 * each problem of a file an error that names it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readRecording, recordedFileLabel, writeSplitIds } from "../../src/results/recorded-run.js";
import { loadNpy, saveNpy } from "../../src/util/npy.js";
import { tempDir } from "../training/helpers.js";

const IDS = [5, 2, 9];
const TARGETS = [1, 0, 1];
const LOGITS = [
  [
    [0.1, 0.9],
    [0.8, 0.2],
    [0.3, 0.7],
  ],
  [
    [0.2, 1.9],
    [1.8, 0.1],
    [-0.3, 0.4],
  ],
];

function npyFolder(): string {
  const dir = tempDir("recorded-npy");
  saveNpy(join(dir, "train", "ids.npy"), Int32Array.from(IDS), [3]);
  saveNpy(join(dir, "train", "targets.npy"), Int32Array.from(TARGETS), [3]);
  LOGITS.forEach((epoch, e) => {
    saveNpy(join(dir, "train", `epoch_${e + 1}.npy`), Float32Array.from(epoch.flat()), [3, 2]);
  });
  return dir;
}

describe("readRecording", () => {
  it("reads the npy format: ids, targets and one logits array per epoch", () => {
    const dir = npyFolder();
    const rec = readRecording(dir, "npy");
    const train = rec.subsets.train;
    expect(Array.from(train?.ids ?? [])).toEqual(IDS);
    expect(Array.from(train?.targets ?? [])).toEqual(TARGETS);
    expect(train?.numClasses).toBe(2);
    expect(train?.epochs.map((z) => Array.from(z))).toEqual(
      LOGITS.map((e) => Array.from(Float32Array.from(e.flat()))),
    );
    expect(rec.files.map((f) => recordedFileLabel(rec, f))).toEqual([
      "train/targets.npy",
      "train/ids.npy",
      "train/epoch_1.npy",
      "train/epoch_2.npy",
    ]);
  });

  it("aligns cartography rows of every epoch to the first epoch's order and numbers epochs from 0 or 1", () => {
    const dir = tempDir("recorded-carto");
    const dynamics = join(dir, "training_dynamics");
    mkdirSync(dynamics);
    LOGITS.forEach((epoch, e) => {
      const rows = IDS.map((id, r) => ({
        guid: String(id),
        [`logits_epoch_${e}`]: epoch[r],
        gold: TARGETS[r],
      }));
      if (e === 1) rows.reverse();
      writeFileSync(
        join(dynamics, `dynamics_epoch_${e}.jsonl`),
        rows.map((r) => JSON.stringify(r)).join("\n"),
      );
    });
    const train = readRecording(dir, "cartography").subsets.train;
    expect(Array.from(train?.ids ?? [])).toEqual(IDS);
    expect(train?.epochs.map((z) => Array.from(z))).toEqual(
      LOGITS.map((e) => Array.from(Float32Array.from(e.flat()))),
    );
  });

  it("reads the csv format by subset and epoch, rows in any order", () => {
    const dir = tempDir("recorded-csv");
    const lines = ["subset,epoch,id,target,logit_0,logit_1"];
    LOGITS.forEach((epoch, e) => {
      const order = e === 0 ? [0, 1, 2] : [2, 0, 1];
      for (const r of order) lines.push(`train,${e + 1},${IDS[r]},${TARGETS[r]},${epoch[r]?.join(",")}`);
      lines.push(`dev,${e + 1},7,0,${epoch[0]?.join(",")}`);
    });
    writeFileSync(join(dir, "run.csv"), `${lines.join("\n")}\n`);
    const rec = readRecording(join(dir, "run.csv"), "csv");
    expect(Array.from(rec.subsets.train?.ids ?? [])).toEqual(IDS);
    expect(rec.subsets.train?.epochs.map((z) => Array.from(z))).toEqual(
      LOGITS.map((e) => Array.from(Float32Array.from(e.flat()))),
    );
    expect(Array.from(rec.subsets.dev?.ids ?? [])).toEqual([7]);
    expect(rec.files.map((f) => recordedFileLabel(rec, f))).toEqual(["run.csv"]);
  });

  it("refuses float targets, ids of another length and a target that changes between epochs", () => {
    const floats = npyFolder();
    saveNpy(join(floats, "train", "targets.npy"), Float32Array.from(TARGETS), [3]);
    expect(() => readRecording(floats, "npy")).toThrow(
      /targets\.npy: expected a 1-D integer array of targets/,
    );
    const ids = npyFolder();
    saveNpy(join(ids, "train", "ids.npy"), Int32Array.from([1, 2]), [2]);
    expect(() => readRecording(ids, "npy")).toThrow(/ids\.npy: 2 ids but targets\.npy has 3 rows/);
    const dir = tempDir("recorded-csv-bad");
    writeFileSync(
      join(dir, "run.csv"),
      "subset,epoch,id,target,logit_0,logit_1\ntrain,1,5,1,0,1\ntrain,2,5,0,0,1\n",
    );
    expect(() => readRecording(join(dir, "run.csv"), "csv")).toThrow(
      /run\.csv: row 3: id 5 has target 0 but 1 in the first epoch/,
    );
  });

  it("refuses a subset recorded at other epochs than train", () => {
    const dir = npyFolder();
    saveNpy(join(dir, "dev", "targets.npy"), Int32Array.from([0]), [1]);
    saveNpy(join(dir, "dev", "epoch_1.npy"), Float32Array.from([0, 1]), [1, 2]);
    expect(() => readRecording(dir, "npy")).toThrow(/dev has 1 epochs but train has 2/);
  });
});

describe("writeSplitIds", () => {
  it("writes each subset's source indices and labels in subset order", () => {
    const dir = tempDir("split-ids");
    writeSplitIds(dir, { train: { sourceIndex: Int32Array.from([4, 1]), labels: Int32Array.from([3, 0]) } });
    expect(Array.from(loadNpy(join(dir, "train", "ids.npy")).data)).toEqual([4, 1]);
    expect(Array.from(loadNpy(join(dir, "train", "targets.npy")).data)).toEqual([3, 0]);
  });
});
