import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assembleRun, defaultDeps, trainRun } from "../../src/assembly/train-run.js";
import type { RunConfig } from "../../src/config/schema.js";
import {
  AugmentedSubset,
  augmentBatch,
  parseAugmentation,
  type SampleShape,
} from "../../src/data/augmentation/index.js";
import { padIndex } from "../../src/data/augmentation/random-crop.js";
import { resizedCropWindow } from "../../src/data/augmentation/random-resized-crop.js";
import { initEngine } from "../../src/engine/index.js";
import { ConfigError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { torch } from "../support/torch.js";
import { blobConfig, crashOnStep, differingFiles, tempDir } from "../training/helpers.js";
import { SMALL_LOGMEL, toneFolder } from "./wav.js";

/**
 * Seeded augmentation of training batches: each step's arithmetic, the stream's determinism, and
 * runs with the packaged CropFlip and SpecAugment presets that rerun byte-identically, resume
 * exactly after a crash, and see the same batches on both engines.
 */

const step = (options: Record<string, unknown>) => {
  const [s] = parseAugmentation({ id: "T", pipeline: [options] });
  if (!s) throw new Error("no step");
  return s;
};

/** A 3 × 4 × 1 sample 0 … 11 (row-major). */
const ramp = () => Float32Array.from({ length: 12 }, (_, i) => i);
const shape: SampleShape = [3, 4, 1];

describe("the steps", () => {
  it("RandomHorizontalFlip mirrors each row; p decides per sample", () => {
    const x = ramp();
    step({ type: "RandomHorizontalFlip", p: 1 }).apply(x, shape, new Rng(1));
    expect(Array.from(x)).toEqual([3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8]);
    const batch = Float32Array.from([...ramp(), ...ramp()]);
    augmentBatch(batch, 2, shape, [step({ type: "RandomHorizontalFlip", p: 0 })], new Rng(1));
    expect(Array.from(batch)).toEqual([...ramp(), ...ramp()]);
  });

  it("RandomCrop shifts within the padding, filling constant, edge or reflected values", () => {
    expect([-2, -1, 0, 3, 4, 5].map((i) => padIndex(i, 4, "reflect"))).toEqual([2, 1, 0, 3, 2, 1]);
    expect([-1, 4].map((i) => padIndex(i, 4, "edge"))).toEqual([0, 3]);
    expect(padIndex(-1, 4, "constant")).toBeNull();
    const rng = new Rng(4);
    const crop = step({ type: "RandomCrop", padding: 2, fill: -1 });
    const seen = new Set<string>();
    for (let t = 0; t < 60; t++) {
      const x = ramp();
      crop.apply(x, shape, rng);
      // Every value is the fill or a value of the sample, and the pattern is a pure shift.
      for (const v of x) expect(v === -1 || (v >= 0 && v <= 11)).toBe(true);
      seen.add(Array.from(x).join(","));
    }
    expect(seen.size).toBeGreaterThan(10);
    expect(seen.has(Array.from(ramp()).join(","))).toBe(true);
  });

  it("RandomResizedCrop's window fits the sample and falls back to the central crop as torchvision's", () => {
    const rng = new Rng(2);
    for (let t = 0; t < 50; t++) {
      const win = resizedCropWindow(28, 28, [0.08, 1], [3 / 4, 4 / 3], rng);
      expect(win.top + win.height).toBeLessThanOrEqual(28);
      expect(win.left + win.width).toBeLessThanOrEqual(28);
      expect(win.width * win.height).toBeGreaterThan(0);
    }
    // No draw can fit a ratio far outside the image's: the centre crop at the clamped ratio.
    expect(resizedCropWindow(10, 40, [0.99, 1], [1, 1], new Rng(1))).toEqual({
      top: 0,
      left: 15,
      height: 10,
      width: 10,
    });
    const x = ramp();
    step({ type: "RandomResizedCrop", scale: [1, 1], ratio: [4 / 3, 4 / 3] }).apply(x, shape, new Rng(3));
    expect(Array.from(x)).toEqual(Array.from(ramp()));
  });

  it("RandomErasing sets one rectangle to its value; Normalize, Gain and ColorJitter's brightness are affine", () => {
    const x = Float32Array.from({ length: 100 }, () => 5);
    step({ type: "RandomErasing", p: 1, scale: [0.1, 0.1], ratio: [1, 1], value: 0 }).apply(
      x,
      [10, 10, 1],
      new Rng(5),
    );
    expect(x.filter((v) => v === 0).length).toBe(9); // round(sqrt(10))² = 3 × 3
    const n = Float32Array.from([1, 2, 3, 4, 5, 6]);
    step({ type: "Normalize", mean: [1, 2, 3], std: [1, 2, 3] }).apply(n, [1, 2, 3], new Rng(1));
    expect(Array.from(n)).toEqual([0, 0, 0, 3, 1.5, 1]);
    const g = Float32Array.from([1, 2]);
    step({ type: "Gain", db: [3, 3] }).apply(g, [2, 1, 1], new Rng(1));
    expect(Array.from(g)).toEqual([4, 5]);
    const b = Float32Array.from([1, 2, 3, 4]);
    step({ type: "ColorJitter", brightness: 0.5 }).apply(b, [2, 2, 1], new Rng(9));
    const f = (b[0] as number) / 1;
    expect(f).toBeGreaterThanOrEqual(0.5);
    expect(f).toBeLessThanOrEqual(1.5);
    expect(Array.from(b)).toEqual([1, 2, 3, 4].map((v) => Math.fround(v * f)));
  });

  it("SpecAugment masks whole frames and bands; TimeShift rolls frames", () => {
    const frames = 20;
    const bands = 6;
    const x = Float32Array.from({ length: frames * bands }, () => 1);
    step({ type: "SpecAugment", time_masks: 1, time_width: 5, freq_masks: 1, freq_width: 2 }).apply(
      x,
      [frames, bands, 1],
      new Rng(8),
    );
    const maskedFrames = Array.from({ length: frames }, (_, t) =>
      x.subarray(t * bands, (t + 1) * bands).every((v) => v === 0),
    );
    const maskedBands = Array.from({ length: bands }, (_, f) =>
      Array.from({ length: frames }, (_, t) => x[t * bands + f]).every((v) => v === 0),
    );
    // Seed 8 masks a frame and a band, and the zeros are exactly the masked frames and bands.
    expect(maskedFrames.some(Boolean) && maskedBands.some(Boolean)).toBe(true);
    expect(Array.from(x)).toEqual(
      Array.from(x, (_, i) => (maskedFrames[Math.floor(i / bands)] || maskedBands[i % bands] ? 0 : 1)),
    );
    const s = Float32Array.from({ length: 5 }, (_, i) => i);
    const rng = new Rng(1);
    const shift = step({ type: "TimeShift", max_shift: 2 });
    const copy = s.slice();
    shift.apply(s, [5, 1, 1], rng);
    const k = Array.from(s).indexOf(0);
    expect(k, "seed 1 shifts by a frame or two").toBeGreaterThan(0);
    expect(Array.from(s)).toEqual(Array.from(copy).map((_, i) => copy[(i - k + 5) % 5]));
  });

  it("bad pipelines name the entry and the key", () => {
    expect(() => parseAugmentation({ id: "X", pipeline: [{ type: "Blur" }] })).toThrow(
      /pipeline\[0\]\.type.*Blur/,
    );
    expect(() => parseAugmentation({ id: "X", pipeline: [{ type: "RandomCrop", paddding: 4 }] })).toThrow(
      ConfigError,
    );
    expect(() => parseAugmentation({ id: "X", pipeline: [{ type: "RandomHorizontalFlip", p: 2 }] })).toThrow(
      /pipeline\[0\]\.p/,
    );
    expect(parseAugmentation({ id: "None" })).toEqual([]);
  });

  it("the packaged presets parse", () => {
    for (const name of ["CropFlip", "SpecAugment"]) {
      const config = readYaml<Record<string, unknown>>(
        new URL(`../../configs/augmentation/${name}.yaml`, import.meta.url).pathname,
      );
      expect(parseAugmentation(config).length).toBeGreaterThan(0);
    }
  });
});

const root = tempDir("augment");
afterAll(() => rmSync(root, { recursive: true, force: true }));

function preset(name: string): Record<string, unknown> {
  return readYaml<Record<string, unknown>>(
    new URL(`../../configs/augmentation/${name}.yaml`, import.meta.url).pathname,
  );
}

function cropFlipConfig(overrides: Record<string, unknown> = {}): RunConfig {
  return blobConfig({
    seed: 3,
    batch_size: 32,
    learning_rate: 0.003,
    iterations: 3,
    dataset: { id: "DigitsImage", type: "Digits", shape: "image", dev_split: 0.2, test_split: 0.2 },
    model: { id: "CNN", type: "CNN", channels: [4, 8], hidden: 16, dropout: 0.25 },
    optimizer: { id: "Adam", type: "Adam" },
    augmentation: {
      ...preset("CropFlip"),
      pipeline: [{ type: "RandomCrop", padding: 1 }, { type: "RandomHorizontalFlip" }],
    },
    ...overrides,
  });
}

/** 48 short tones (30 for training: 8 batches of 4), 32 frames × 16 mel bands each. */
const tones = toneFolder(join(root, "tones"), false, 48);

/** The packaged SpecAugment preset (2 time masks up to 20 frames, 2 band masks up to 8) on the tones. */
function specAugmentConfig(overrides: Record<string, unknown> = {}): RunConfig {
  return blobConfig({
    seed: 3,
    batch_size: 4,
    learning_rate: 0.003,
    iterations: 3,
    dataset: { id: "Tones", type: "AudioFolder", path: tones, ...SMALL_LOGMEL },
    model: { id: "AudioCNN", type: "AudioCNN", channels: [4, 8], dropout: 0.25 },
    optimizer: { id: "Adam", type: "Adam" },
    augmentation: preset("SpecAugment"),
    ...overrides,
  });
}

describe.each([
  { name: "CropFlip", config: cropFlipConfig },
  { name: "SpecAugment", config: specAugmentConfig },
])("$name runs", ({ name, config }) => {
  it("the same seed twice gives byte-identical results, and a run killed mid-epoch resumes to the same", async () => {
    const a = join(root, `${name}-a`);
    const b = join(root, `${name}-b`);
    const c = join(root, `${name}-c`);
    await trainRun(config(), { runDir: a, log: null, progress: false });
    await trainRun(config(), { runDir: b, log: null, progress: false });
    expect(readFileSync(join(a, "metrics.csv"), "utf8")).toBe(readFileSync(join(b, "metrics.csv"), "utf8"));
    expect(differingFiles(a, b)).toEqual([]);
    await expect(
      trainRun(config(), { runDir: c, log: null, progress: false, callbacks: [crashOnStep(2, 5)] }),
    ).rejects.toThrow(/simulated crash/);
    await trainRun(config(), { runDir: c, log: null, progress: false });
    expect(differingFiles(a, c)).toEqual([]);
    // Without augmentation the run differs: the batches really were augmented.
    const plain = join(root, `${name}-plain`);
    await trainRun(config({ augmentation: { id: "None" } }), {
      runDir: plain,
      log: null,
      progress: false,
    });
    expect(readFileSync(join(plain, "metrics.csv"), "utf8")).not.toBe(
      readFileSync(join(a, "metrics.csv"), "utf8"),
    );
  });

  it("training batches are augmented, evaluations are not, and both engines draw the same batches", async () => {
    const engines = torch.usable ? (["wasm", "torch"] as const) : (["wasm"] as const);
    const batches: Float32Array[][] = [];
    for (const engine of engines) {
      const deps = await defaultDeps();
      const setup = await assembleRun(
        deps,
        config({ engine, threads: 1 }),
        { runDir: join(root, `${name}-eng-${engine}`) },
        {
          kind: "fresh",
        } as never,
      );
      expect(setup.trainBatches).toBeInstanceOf(AugmentedSubset);
      const positions = Int32Array.from({ length: 16 }, (_, i) => i);
      const clean = setup.train.batch(positions).x;
      const drawn = [0, 1, 2].map(() => (setup.trainBatches as AugmentedSubset).batch(positions).x);
      expect(drawn.some((x) => x.some((v, i) => v !== clean[i]))).toBe(true);
      // The plain subset is untouched by augmentation.
      expect(Array.from(setup.train.batch(positions).x)).toEqual(Array.from(clean));
      batches.push(drawn);
      setup.network.dispose();
    }
    if (batches.length === 2)
      expect(batches[1]?.map((x) => Array.from(x))).toEqual(batches[0]?.map((x) => Array.from(x)));
    await initEngine({ engine: "wasm" });
  });
});

describe("larger than memory", () => {
  it("a SpecAugment run reading its AudioFolder cache a batch at a time equals one holding it in memory", async () => {
    const inMemory = join(root, "tones-in-memory");
    const onDisk = join(root, "tones-on-disk");
    const dataset = (in_memory: boolean) => ({
      dataset: { id: "Tones", type: "AudioFolder", path: tones, ...SMALL_LOGMEL, in_memory },
    });
    await trainRun(specAugmentConfig(dataset(true)), { runDir: inMemory, log: null, progress: false });
    await trainRun(specAugmentConfig(dataset(false)), { runDir: onDisk, log: null, progress: false });
    // Only the config, which records in_memory, differs.
    expect(differingFiles(inMemory, onDisk)).toEqual(["config.yaml"]);
    expect(readFileSync(join(onDisk, "config.yaml"), "utf8")).toMatch(/in_memory: false/);
  });
});
