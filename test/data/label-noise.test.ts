import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainRunWith } from "../../src/assembly/train-run.js";
import { runName } from "../../src/config/naming.js";
import { parseRunConfig } from "../../src/config/parse.js";
import type { DatasetConfig } from "../../src/config/schema.js";
import { createDataset } from "../../src/data/index.js";
import { drawLabelNoise, withLabelNoise } from "../../src/data/label-noise.js";
import { inspectRunFolder } from "../../src/training/resume.js";
import { readCsv } from "../../src/util/csv.js";
import { ConfigError } from "../../src/util/errors.js";
import { blobsDataset, fakeDeps } from "../training/fakes.js";
import { blobConfig, tempDir } from "../training/helpers.js";
import { datasetConfig } from "./dataset-config.js";

const CLASSES = ["a", "b", "c", "d"];
const labels = Int32Array.from({ length: 203 }, (_, i) => (i * 7) % 4);

const digits = (extra: Record<string, unknown> = {}) => datasetConfig("Digits", extra);

describe("drawLabelNoise", () => {
  it("changes exactly ⌊rate·N⌋ labels, each to another class, the same ones for the same seed", () => {
    const a = drawLabelNoise(labels, CLASSES, { rate: 0.3, kind: "symmetric", seed: 4 });
    expect(a.positions.length).toBe(Math.floor(0.3 * 203));
    expect(new Set(a.positions).size).toBe(a.positions.length);
    expect(Array.from(a.positions)).toEqual(Array.from(a.positions).sort((x, y) => x - y));
    a.positions.forEach((p, i) => {
      expect(a.original[i]).toBe(labels[p]);
      expect(a.noisy[i]).not.toBe(labels[p]);
    });
    // symmetric: every other class is reached
    expect(new Set(a.noisy).size).toBe(4);
    const again = drawLabelNoise(labels, CLASSES, { rate: 0.3, kind: "symmetric", seed: 4 });
    expect(again).toEqual(a);
    const other = drawLabelNoise(labels, CLASSES, { rate: 0.3, kind: "symmetric", seed: 5 });
    expect(Array.from(other.positions)).not.toEqual(Array.from(a.positions));
  });

  it("flips class k to k + 1 (mod C) with pairflip", () => {
    const n = drawLabelNoise(labels, CLASSES, { rate: 0.5, kind: "pairflip", seed: 1 });
    expect(n.positions.length).toBe(101);
    n.positions.forEach((_, i) => {
      expect(n.noisy[i]).toBe(((n.original[i] as number) + 1) % 4);
    });
  });

  it("changes only mapped classes with map, and refuses too few of them or an unknown class", () => {
    const n = drawLabelNoise(labels, CLASSES, { rate: 0.1, kind: "map", seed: 1, map: { a: "c", b: "b" } });
    expect(n.positions.length).toBe(20);
    for (let i = 0; i < n.positions.length; i++) {
      expect(n.original[i]).toBe(0);
      expect(n.noisy[i]).toBe(2);
    }
    expect(() =>
      drawLabelNoise(labels, CLASSES, { rate: 0.5, kind: "map", seed: 1, map: { a: "c" } }),
    ).toThrow(/only 51 samples have a class the map changes/);
    expect(() =>
      drawLabelNoise(labels, CLASSES, { rate: 0.1, kind: "map", seed: 1, map: { a: "z" } }),
    ).toThrow(/unknown class 'z'/);
  });
});

describe("label_noise on a dataset", () => {
  it("Digits with rate 0.2: exactly ⌊0.2·N⌋ train labels change, the same for the same seed; dev and test untouched", async () => {
    const clean = await createDataset(digits());
    const noisy = await createDataset(digits({ label_noise: { rate: 0.2, kind: "symmetric", seed: 3 } }));
    const train = clean.subset("train");
    const changed: number[] = [];
    for (let i = 0; i < train.size; i++) {
      if (noisy.subset("train").labels[i] !== train.labels[i]) changed.push(i);
    }
    expect(changed.length).toBe(Math.floor(0.2 * train.size));
    expect(changed).toEqual(Array.from(noisy.labelNoise?.positions ?? []));
    // batches carry the noisy labels, features unchanged
    const positions = changed.slice(0, 5);
    const batch = noisy.subset("train").batch(positions);
    expect(Array.from(batch.y)).toEqual(positions.map((p) => noisy.subset("train").labels[p]));
    expect(Array.from(batch.x)).toEqual(Array.from(train.batch(positions).x));
    for (const name of ["dev", "test"] as const) {
      expect(Array.from(noisy.subset(name).labels)).toEqual(Array.from(clean.subset(name).labels));
    }
    const again = await createDataset(digits({ label_noise: { rate: 0.2, kind: "symmetric", seed: 3 } }));
    expect(Array.from(again.subset("train").labels)).toEqual(Array.from(noisy.subset("train").labels));
    expect(clean.labelNoise).toBeUndefined();
  });

  it("rejects a bad rate or kind naming the key", async () => {
    await expect(createDataset(digits({ label_noise: { rate: 1.5 } }))).rejects.toThrow(
      /dataset\.label_noise\.rate/,
    );
    await expect(createDataset(digits({ label_noise: { rate: 0.1, kind: "odd" } }))).rejects.toThrow(
      ConfigError,
    );
  });
});

describe("label_noise and the run's identity", () => {
  const root = tempDir("label-noise");
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const noise = { rate: 0.2, kind: "symmetric", seed: 7 };
  const noisyConfig = () => blobConfig({ dataset: { id: "Blobs", type: "Blobs", label_noise: noise } });
  const deps = () => {
    const base = fakeDeps();
    return {
      ...base,
      createDataset: async (c: DatasetConfig) => withLabelNoise(blobsDataset(c.split_seed), c.label_noise),
    };
  };

  it("names a noisy run apart from a clean one", () => {
    expect(runName(blobConfig())).toMatch(/^Blobs_/);
    expect(runName(noisyConfig())).toMatch(/^Blobs-noisy-symmetric0\.2s7_/);
    const map = parseRunConfig({
      ...noisyConfig(),
      dataset: { id: "Blobs", type: "Blobs", label_noise: { rate: 0.1, kind: "map", map: { c0: "c1" } } },
    });
    expect(runName(map)).toMatch(/^Blobs-noisy-map[0-9a-f]{6}0\.1s0_/);
    expect(map.dataset.label_noise).toEqual({ rate: 0.1, kind: "map", seed: 0, map: { c0: "c1" } });
  });

  it("records the changed labels in label_noise.csv, and a clean run is not reused for a noisy one", async () => {
    const cleanDir = join(root, "clean");
    await trainRunWith(deps(), blobConfig(), { runDir: cleanDir, log: null, progress: false });
    expect(existsSync(join(cleanDir, "label_noise.csv"))).toBe(false);
    expect(() => inspectRunFolder(cleanDir, noisyConfig())).toThrow(/label_noise/);

    const noisyDir = join(root, "noisy");
    await trainRunWith(deps(), noisyConfig(), { runDir: noisyDir, log: null, progress: false });
    const { columns, rows } = readCsv(join(noisyDir, "label_noise.csv"));
    expect(columns).toEqual(["index", "source_index", "original_label", "noisy_label"]);
    expect(rows.length).toBe(Math.floor(0.2 * 90));
    const clean = blobsDataset(1).subset("train");
    for (const row of rows) {
      const p = Number(row.index);
      expect(row.original_label).toBe(`c${clean.labels[p]}`);
      expect(row.noisy_label).not.toBe(row.original_label);
      expect(Number(row.source_index)).toBe(clean.sourceIndex[p]);
    }
  });
});
