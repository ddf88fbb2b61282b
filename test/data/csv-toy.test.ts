import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { applyColumnTransform, fitColumnTransform } from "../../src/data/csv.js";
import { createDataset } from "../../src/data/index.js";
import { generateToy } from "../../src/data/toy.js";
import { ConfigError, DataError } from "../../src/util/errors.js";
import { datasetConfig } from "./dataset-config.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const tmp = mkdtempSync(join(tmpdir(), "curricula-csv-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const config = datasetConfig;

/** A CSV of n rows, two features, label in {a, b, c}. */
function writeCsv(name: string, n: number, label = (i: number) => "abc"[i % 3] as string): string {
  const rows = ["x1,x2,label", ...Array.from({ length: n }, (_, i) => `${i},${i * 2},${label(i)}`)];
  const path = join(tmp, name);
  writeFileSync(path, `${rows.join("\n")}\n`);
  return path;
}

describe("CSV dataset", () => {
  it("splits by a split column, encodes sorted labels and keeps row numbers", async () => {
    const ds = await createDataset(
      config("CSV", { path: join(fixtures, "flowers.csv"), target_column: "species", split_column: "split" }),
    );
    expect(ds.classNames).toEqual(["daisy", "rose", "tulip"]);
    expect(ds.featureShape).toEqual([3]);
    expect(ds.featureNames).toEqual(["width", "height", "colour_code"]);
    expect(Array.from(ds.subset("train").sourceIndex)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(ds.subset("train").labels)).toEqual([1, 2, 1, 2, 0]);
    expect(Array.from(ds.subset("dev").sourceIndex)).toEqual([5, 6]);
    expect(Array.from(ds.subset("test").batch([1]).x)).toEqual([5, 6, 2]);
  });

  it("keeps its feature names when label noise or review tags edit the train subset", async () => {
    const ds = await createDataset(
      config("CSV", {
        path: join(fixtures, "flowers.csv"),
        target_column: "species",
        split_column: "split",
        exclude: [0],
        label_noise: { rate: 0.4, kind: "symmetric", seed: 1 },
      }),
    );
    expect(Array.from(ds.subset("train").sourceIndex)).toEqual([1, 2, 3, 4]);
    expect(ds.labelNoise).toBeDefined();
    expect(ds.featureNames).toEqual(["width", "height", "colour_code"]);
  });

  it("uses feature_columns when given", async () => {
    const ds = await createDataset(
      config("CSV", {
        path: join(fixtures, "flowers.csv"),
        target_column: "species",
        split_column: "split",
        feature_columns: ["height"],
      }),
    );
    expect(ds.featureShape).toEqual([1]);
    expect(Array.from(ds.subset("train").batch([0, 1]).x)).toEqual([2, 2.5]);
  });

  it("splits by seeded stratified fractions", async () => {
    const path = writeCsv("fractions.csv", 30);
    const a = await createDataset(config("CSV", { path, split_seed: 5 }));
    const b = await createDataset(config("CSV", { path, split_seed: 5 }));
    expect([a.subset("train").size, a.subset("dev").size, a.subset("test").size]).toEqual([18, 6, 6]);
    expect(Array.from(a.subset("dev").sourceIndex)).toEqual(Array.from(b.subset("dev").sourceIndex));
    const perClass = Array.from(a.subset("dev").labels).reduce(
      (m, y) => m.set(y, (m.get(y) ?? 0) + 1),
      new Map(),
    );
    expect([...perClass.values()]).toEqual([2, 2, 2]);
    // Features are the file's values: x1 = row number.
    const dev = a.subset("dev");
    expect(dev.batch([0]).x[0]).toBe(dev.sourceIndex[0]);
  });

  it("reads separate train/dev/test files relative to dataset.path", async () => {
    writeCsv("tr.csv", 9);
    writeCsv("dv.csv", 3);
    writeCsv("te.csv", 4, () => "d");
    const ds = await createDataset(
      config("CSV", {
        path: tmp,
        train_file: "tr.csv",
        dev_file: "dv.csv",
        test_file: "te.csv",
        normalize: "standard",
      }),
    );
    expect(ds.classNames).toEqual(["a", "b", "c", "d"]);
    expect([ds.subset("train").size, ds.subset("dev").size, ds.subset("test").size]).toEqual([9, 3, 4]);
    expect(Array.from(ds.subset("test").labels)).toEqual([3, 3, 3, 3]);
    // Standardised with train statistics: train x1 = 0..8 has mean 4, std sqrt(60/9).
    const x = ds.subset("train").batch([4]).x;
    expect(x[0]).toBeCloseTo(0, 6);
    expect(ds.subset("dev").batch([0]).x[0]).toBeCloseTo(-4 / Math.sqrt(60 / 9), 5);
    await expect(
      createDataset(config("CSV", { path: tmp, train_file: "tr.csv", dev_file: "dv.csv" })),
    ).rejects.toThrow(/dataset\.test_file: required/);
  });

  it("reads scikit-learn's vendored CSVs through the package: prefix", async () => {
    const ds = await createDataset(
      config("CSV", {
        path: "package:data/sklearn/breast_cancer.csv",
        format: "sklearn",
        normalize: "standard",
      }),
    );
    expect(ds.classNames).toEqual(["benign", "malignant"]);
    expect(ds.featureShape).toEqual([30]);
    const n = ds.subset("train").size + ds.subset("dev").size + ds.subset("test").size;
    expect(n).toBe(569);
    const iris = await createDataset(
      config("CSV", { path: "package:data/sklearn/iris.csv", format: "sklearn" }),
    );
    expect(iris.classNames).toEqual(["setosa", "versicolor", "virginica"]);
    expect(iris.subset("test").size).toBe(30);
  });

  it("names the file and the column when the target column is missing", async () => {
    const path = join(fixtures, "flowers.csv");
    const attempt = createDataset(config("CSV", { path, target_column: "label" }));
    await expect(attempt).rejects.toThrow(DataError);
    await expect(createDataset(config("CSV", { path, target_column: "label" }))).rejects.toThrow(
      /flowers\.csv: no column 'label' \(dataset\.target_column\); the columns are: width, height, colour_code, species, split/,
    );
  });

  it("names file, row and column of a non-numeric feature cell", async () => {
    await expect(
      createDataset(
        config("CSV", { path: join(fixtures, "flowers-bad-cell.csv"), target_column: "species" }),
      ),
    ).rejects.toThrow(
      /flowers-bad-cell\.csv: row 2 \(line 3\), column 'height': expected a number, got 'n\/a'/,
    );
  });

  it("reports missing files, bad split values and empty splits", async () => {
    await expect(createDataset(config("CSV", { path: join(tmp, "absent.csv") }))).rejects.toThrow(
      /absent\.csv: CSV file \(dataset\.path\) not found/,
    );
    await expect(createDataset(config("CSV", {}))).rejects.toThrow(ConfigError);
    const bad = join(tmp, "badsplit.csv");
    writeFileSync(bad, "x,label,split\n1,a,train\n2,b,validation\n");
    await expect(createDataset(config("CSV", { path: bad, split_column: "split" }))).rejects.toThrow(
      /row 2 \(line 3\), column 'split': expected train, dev or test, got 'validation'/,
    );
    const noTest = join(tmp, "notest.csv");
    writeFileSync(noTest, "x,label,split\n1,a,train\n2,b,dev\n");
    await expect(createDataset(config("CSV", { path: noTest, split_column: "split" }))).rejects.toThrow(
      /the test split would be empty \(no row of .*notest\.csv has split = test\)/,
    );
    const tiny = writeCsv("tiny.csv", 4);
    await expect(createDataset(config("CSV", { path: tiny }))).rejects.toThrow(
      /the dev split would be empty/,
    );
  });

  it("fits column transforms on train rows only", () => {
    const x = Float32Array.of(0, 10, 2, 10, 4, 10, 100, 0);
    const t = fitColumnTransform(x, 2, [0, 1, 2], "minmax");
    applyColumnTransform(x, 2, t);
    expect(Array.from(x)).toEqual([0, 0, 0.5, 0, 1, 0, 25, -10]);
  });
});

describe("Toy dataset", () => {
  it("has autrainer's ToyTabular-C shape: 600/200/200, class_<k+1> names sorted", async () => {
    const ds = await createDataset(config("Toy"));
    expect(ds.featureShape).toEqual([64]);
    expect(ds.classNames).toEqual([
      "class_1",
      "class_10",
      "class_2",
      "class_3",
      "class_4",
      "class_5",
      "class_6",
      "class_7",
      "class_8",
      "class_9",
    ]);
    expect([ds.subset("train").size, ds.subset("dev").size, ds.subset("test").size]).toEqual([600, 200, 200]);
    expect(ds.subset("dev").sourceIndex[0]).toBe(600);
  });

  it("returns the same features for a sample on every access and for every size", async () => {
    const a = await createDataset(config("Toy", { split_seed: 3 }));
    const b = await createDataset(config("Toy", { size: 50, split_seed: 3 }));
    const x1 = a.subset("train").batch([7]).x;
    const x2 = a.subset("train").batch([7]).x;
    expect(Array.from(x1)).toEqual(Array.from(x2));
    expect(Array.from(b.subset("train").batch([7]).x)).toEqual(Array.from(x1));
    expect(b.subset("train").labels[7]).toBe(a.subset("train").labels[7]);
    const c = await createDataset(config("Toy", { split_seed: 4 }));
    expect(Array.from(c.subset("train").batch([7]).x)).not.toEqual(Array.from(x1));
  });

  it("makes noisier samples harder (nearest class mean errs more often)", () => {
    const params = {
      size: 2000,
      numTargets: 10,
      featureShape: [64],
      separation: 0.5,
      noiseMin: 0.5,
      noiseMax: 2,
    };
    const { labels, features, noise } = generateToy(params, 1);
    const f = 64;
    const means = new Float64Array(10 * f);
    const counts = new Float64Array(10);
    for (let i = 0; i < params.size; i++) {
      const c = labels[i] as number;
      counts[c] = (counts[c] as number) + 1;
      for (let j = 0; j < f; j++)
        means[c * f + j] = (means[c * f + j] as number) + (features[i * f + j] as number);
    }
    for (let c = 0; c < 10; c++)
      for (let j = 0; j < f; j++) means[c * f + j] = (means[c * f + j] as number) / (counts[c] as number);
    const correct = { low: 0, lowN: 0, high: 0, highN: 0 };
    for (let i = 0; i < params.size; i++) {
      let best = -1;
      let bestD = Number.POSITIVE_INFINITY;
      for (let c = 0; c < 10; c++) {
        let d = 0;
        for (let j = 0; j < f; j++)
          d += ((features[i * f + j] as number) - (means[c * f + j] as number)) ** 2;
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      const hit = best === labels[i] ? 1 : 0;
      if ((noise[i] as number) < 1) {
        correct.low += hit;
        correct.lowN++;
      } else if ((noise[i] as number) > 1.5) {
        correct.high += hit;
        correct.highN++;
      }
    }
    const lowAcc = correct.low / correct.lowN;
    const highAcc = correct.high / correct.highN;
    expect(lowAcc).toBeGreaterThan(0.95);
    expect(highAcc).toBeLessThan(lowAcc - 0.1);
  });

  it("validates its keys and reports an empty split", async () => {
    await expect(createDataset(config("Toy", { size: 0 }))).rejects.toThrow(
      /dataset\.size: expected an integer > 0/,
    );
    await expect(createDataset(config("Toy", { feature_shape: [8, "x"] }))).rejects.toThrow(
      /dataset\.feature_shape/,
    );
    await expect(createDataset(config("Toy", { size: 4 }))).rejects.toThrow(/the dev split would be empty/);
    const image = await createDataset(config("Toy", { feature_shape: [4, 4, 1], size: 20 }));
    expect(image.featureShape).toEqual([4, 4, 1]);
    expect(image.subset("train").batch([0]).x.length).toBe(16);
  });
});
