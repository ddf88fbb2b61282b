import { describe, expect, it } from "vitest";
import { createDataset, DATASET_TYPES, datasetKeys, preprocessDataset } from "../../src/data/index.js";
import { ConfigError, DataError } from "../../src/util/errors.js";
import { datasetConfig } from "./dataset-config.js";

const digits = (extra: Record<string, unknown> = {}) => datasetConfig("Digits", extra);

describe("Digits", () => {
  it("loads 1797 samples as a stratified 60/20/20 split with classes 0..9", async () => {
    const ds = await createDataset(digits());
    expect(ds.id).toBe("Digits");
    expect(ds.featureShape).toEqual([64]);
    expect(ds.classNames).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(ds.outputDim).toBe(10);
    expect(ds.isImage).toBe(true);
    expect(ds.imageShape).toEqual([8, 8, 1]);
    const sizes = ["train", "dev", "test"].map((n) => ds.subset(n as "train").size);
    expect(sizes).toEqual([1079, 359, 359]);
    const seen = new Set<number>();
    for (const n of ["train", "dev", "test"] as const) for (const s of ds.subset(n).sourceIndex) seen.add(s);
    expect(seen.size).toBe(1797);
    // Stratified: every class's share of dev is within one sample of its share of the whole set.
    const all = new Int32Array(10);
    const dev = new Int32Array(10);
    for (const n of ["train", "dev", "test"] as const)
      for (const y of ds.subset(n).labels) all[y] = (all[y] as number) + 1;
    for (const y of ds.subset("dev").labels) dev[y] = (dev[y] as number) + 1;
    for (let c = 0; c < 10; c++)
      expect(Math.abs((dev[c] as number) - ((all[c] as number) * 359) / 1797)).toBeLessThanOrEqual(1);
  });

  it("gathers batches scaled to [0, 1] with labels and positions", async () => {
    const ds = await createDataset(digits());
    const train = ds.subset("train");
    const b = train.batch([0, 5, 2]);
    expect(b.x.length).toBe(3 * 64);
    expect(Array.from(b.index)).toEqual([0, 5, 2]);
    expect(Array.from(b.y)).toEqual([train.labels[0], train.labels[5], train.labels[2]]);
    expect(Math.max(...b.x)).toBeLessThanOrEqual(1);
    expect(Math.min(...b.x)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...b.x)).toBeGreaterThan(0.9);
    // The first row of digits.csv is a 0 starting "0,0,5,13,9,1".
    const row0 = await createDataset(digits()).then((d) => {
      for (const n of ["train", "dev", "test"] as const) {
        const s = d.subset(n);
        const p = s.sourceIndex.indexOf(0);
        if (p >= 0) return s.batch([p]);
      }
      throw new Error("row 0 missing");
    });
    expect(Array.from(row0.x.subarray(0, 6))).toEqual([0, 0, 5 / 16, 13 / 16, 9 / 16, 1 / 16]);
    expect(row0.y[0]).toBe(0);
    expect(() => train.batch([train.size])).toThrow(RangeError);
  });

  it("is deterministic by split_seed and differs across split seeds", async () => {
    const a = await createDataset(digits({ split_seed: 3 }));
    const b = await createDataset(digits({ split_seed: 3 }));
    const c = await createDataset(digits({ split_seed: 4 }));
    expect(Array.from(a.subset("test").sourceIndex)).toEqual(Array.from(b.subset("test").sourceIndex));
    expect(Array.from(a.subset("test").sourceIndex)).not.toEqual(Array.from(c.subset("test").sourceIndex));
  });

  it("offers an image shape", async () => {
    const ds = await createDataset(digits({ shape: "image" }));
    expect(ds.featureShape).toEqual([8, 8, 1]);
    expect(ds.subset("dev").batch([0]).x.length).toBe(64);
  });

  it("honours dev_split/test_split and reports an empty split", async () => {
    const ds = await createDataset(digits({ dev_split: 0.1, test_split: 0.3 }));
    expect(ds.subset("dev").size).toBe(179);
    expect(ds.subset("test").size).toBe(539);
    await expect(createDataset(digits({ dev_split: 0 }))).rejects.toThrow(DataError);
    await expect(createDataset(digits({ dev_split: 0 }))).rejects.toThrow(/the dev split would be empty/);
    await expect(createDataset(digits({ test_split: 0.0001 }))).rejects.toThrow(
      /the test split would be empty/,
    );
  });

  it("rejects bad keys with the dotted key in the message", async () => {
    await expect(createDataset(digits({ shape: "cube" }))).rejects.toThrow(
      /dataset\.shape: expected one of flat, image/,
    );
    await expect(createDataset(digits({ dev_split: 0.6, test_split: 0.5 }))).rejects.toThrow(ConfigError);
    await expect(createDataset(digits({ dev_split: "x" }))).rejects.toThrow(/dataset\.dev_split/);
  });
});

describe("dataset registry", () => {
  it("lists the known types", () => {
    expect(DATASET_TYPES).toEqual([
      "AudioFolder",
      "CSV",
      "Digits",
      "FashionMNIST",
      "ImageFolder",
      "MNIST",
      "Toy",
    ]);
  });

  it("names dataset.type and the known types for an unknown type", async () => {
    const config = { ...digits(), type: "Digitz" };
    await expect(createDataset(config)).rejects.toThrow(ConfigError);
    await expect(createDataset(config)).rejects.toThrow(
      /dataset\.type: unknown dataset type 'Digitz'.*known types: AudioFolder, CSV, Digits, FashionMNIST, ImageFolder, MNIST, Toy/,
    );
    await expect(preprocessDataset(config)).rejects.toThrow(/dataset\.type/);
  });

  it("preprocess is a no-op for datasets without a cache", async () => {
    await expect(preprocessDataset(digits())).resolves.toBeUndefined();
  });
});

describe("dataset keys", () => {
  it("rejects a misspelt key, naming it and the type's keys", async () => {
    await expect(createDataset(digits({ dev_spilt: 0.1 }))).rejects.toThrow(
      /dataset\.dev_spilt: unknown key for dataset type 'Digits'; its keys are: shape, dev_split, test_split/,
    );
  });

  it("lists every key a type reads", () => {
    expect(datasetKeys("MNIST")).toEqual(["dev_split", "limit", "test_limit"]);
    expect(() => datasetKeys("Nope")).toThrow(/known types/);
  });
});
