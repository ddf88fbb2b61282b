import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trainRun } from "../../src/assembly/train-run.js";
import type { DatasetConfig } from "../../src/config/schema.js";
import { readIdxFile } from "../../src/data/idx.js";
import { channelStats } from "../../src/data/image-folder.js";
import { createDataset, FASHION_MNIST_DEFAULT_PATH, preprocessDataset } from "../../src/data/index.js";
import { DataError } from "../../src/util/errors.js";
import { executeScore, scoreManagerConfig } from "../scoring/fixture.js";
import { expectClose } from "../support/assert.js";
import { describeWith, systemFile } from "../support/system.js";
import { blobConfig, tempDir } from "../training/helpers.js";

/**
 * ImageFolder: a user's own images in class folders or an index CSV, decoded once by sharp into a
 * uint8 cache. Real Fashion-MNIST images exported to PNG and JPEG stand in for a user's folder; the
 * decoding cases and the damaged files are generated here.
 */

const root = tempDir("image-folder");
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A dataset config; its cache goes under the test's folder (one per config), not the working folder. */
const config = (id: string, extra: Record<string, unknown>): DatasetConfig =>
  ({
    id,
    type: "ImageFolder",
    split_seed: 1,
    cache_dir: join(
      root,
      "caches",
      createHash("sha256")
        .update(JSON.stringify([id, extra]))
        .digest("hex")
        .slice(0, 16),
    ),
    ...extra,
  }) as unknown as DatasetConfig;

/** A w × h image of one grey level (or an RGB colour) written with sharp. */
async function solid(
  path: string,
  size: [number, number],
  colour: number[],
  format: "png" | "jpeg" | "webp" | "tiff" | "gif" = "png",
): Promise<void> {
  mkdirSync(join(path, ".."), { recursive: true });
  const [h, w] = size;
  const channels = colour.length as 1 | 3 | 4;
  const data = Buffer.alloc(h * w * channels);
  for (let i = 0; i < h * w; i++)
    for (let c = 0; c < channels; c++) data[i * channels + c] = colour[c] as number;
  await sharp(data, { raw: { width: w, height: h, channels } })
    .toFormat(format)
    .toFile(path);
}

/** Two classes × `per` solid images under `<dir>/<class>/`, all 6 × 5. */
async function twoClassFolder(dir: string, per: number): Promise<void> {
  for (let i = 0; i < per; i++) {
    await solid(join(dir, "dark", `d${i}.png`), [6, 5], [10 + i]);
    await solid(join(dir, "light", `l${i}.png`), [6, 5], [200 + i]);
  }
}

/** The colour each file of the decoding test was written with (one number: a grey level). */
const FORMAT_COLOURS: Record<string, number[]> = {
  "grey.png": [100],
  "rgb.jpeg": [255, 0, 0],
  "rgba.png": [0, 255, 0],
  "w.webp": [0, 0, 255],
  "t.tiff": [50, 60, 70],
  "g.gif": [120],
  "sixteen.png": [128],
  "palette.png": [30],
};

/** The grey level of an sRGB colour: its relative luminance (BT.709 weights on linear light), sRGB-encoded. */
function luminance([r, g, b]: [number, number, number]): number {
  const linear = (v: number) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
  const y = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  return 255 * (y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055);
}

describe("decoding", () => {
  it("PNG (8- and 16-bit, grey, RGB, RGBA, palette), JPEG, WebP, TIFF and GIF decode to the requested channels", async () => {
    const dir = join(root, "formats");
    await solid(join(dir, "a", "grey.png"), [4, 4], [100]);
    await solid(join(dir, "a", "rgb.jpeg"), [4, 4], [255, 0, 0], "jpeg");
    await solid(join(dir, "a", "rgba.png"), [4, 4], [0, 255, 0, 255]);
    await solid(join(dir, "a", "w.webp"), [4, 4], [0, 0, 255], "webp");
    await solid(join(dir, "b", "t.tiff"), [4, 4], [50, 60, 70], "tiff");
    await solid(join(dir, "b", "g.gif"), [4, 4], [120, 120, 120], "gif");
    // 16-bit grey and a palette PNG.
    const sixteen = Buffer.alloc(4 * 4 * 2);
    for (let i = 0; i < 16; i++) sixteen.writeUInt16BE(0x8000, i * 2);
    await sharp(sixteen, { raw: { width: 4, height: 4, channels: 1, premultiplied: false } })
      .toColourspace("grey16")
      .png()
      .toFile(join(dir, "b", "sixteen.png"));
    await sharp(Buffer.alloc(4 * 4 * 3, 30), { raw: { width: 4, height: 4, channels: 3 } })
      .png({ palette: true })
      .toFile(join(dir, "b", "palette.png"));
    for (const channels of [1, 3] as const) {
      const ds = await createDataset(
        config("Formats", {
          path: dir,
          channels,
          normalize: false,
          dev_split: 0.25,
          test_split: 0.25,
          stratify: false,
          cache_dir: join(root, `formats-cache-${channels}`),
        }),
      );
      expect(ds.featureShape).toEqual([4, 4, channels]);
      expect(ds.isImage).toBe(true);
      expect(ds.sourceFiles).toHaveLength(8);
      // Every sample, read back through its subset, is its file's colour (pixels / 255): a grey file
      // in every channel, a colour file in one channel as its luminance.
      for (const name of ["train", "dev", "test"] as const) {
        const subset = ds.subset(name);
        const positions = Int32Array.from({ length: subset.size }, (_, i) => i);
        const { x } = subset.batch(positions);
        for (let p = 0; p < subset.size; p++) {
          const file = basename(ds.sourceFiles?.[subset.sourceIndex[p] as number] as string);
          const colour = FORMAT_COLOURS[file] as number[];
          const want =
            colour.length === 1
              ? Array(channels).fill(colour[0])
              : channels === 3
                ? colour
                : [luminance(colour as [number, number, number])];
          const first = Array.from(
            x.subarray(p * 16 * channels, p * 16 * channels + channels),
            (v) => v * 255,
          );
          expectClose(first, want, `${file} with ${channels} channels`, 2, 0);
        }
      }
    }
  });

  it("EXIF orientation is applied, and image_size resizes by stretch, crop or pad", async () => {
    const dir = join(root, "orient");
    mkdirSync(join(dir, "a"), { recursive: true });
    // A 2-row × 6-column image stored with orientation 6 (rotate 90°): it reads as 6 × 2.
    await sharp(Buffer.alloc(2 * 6, 90), { raw: { width: 6, height: 2, channels: 1 } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toFile(join(dir, "a", "rotated.jpg"));
    await sharp(Buffer.alloc(6 * 2, 90), { raw: { width: 2, height: 6, channels: 1 } })
      .jpeg()
      .toFile(join(dir, "a", "upright.jpg"));
    await solid(join(dir, "b", "other.png"), [6, 2], [10]);
    await solid(join(dir, "b", "other2.png"), [6, 2], [10]);
    const ds = await createDataset(
      config("Orient", { path: dir, channels: 1, dev_split: 0.25, test_split: 0.25, stratify: false }),
    );
    expect(ds.featureShape).toEqual([6, 2, 1]);
    for (const resize of ["stretch", "crop", "pad"]) {
      const sized = await createDataset(
        config("Sized", {
          path: dir,
          channels: 1,
          image_size: [4, 4],
          resize,
          dev_split: 0.25,
          test_split: 0.25,
        }),
      );
      expect(sized.featureShape, resize).toEqual([4, 4, 1]);
    }
  });
});

describe("layouts and bad input", () => {
  beforeAll(async () => {
    await twoClassFolder(join(root, "flat"), 10);
  });

  it("class folders with a seeded split; the same split for the same split_seed; a missing dev/ is carved from train/", async () => {
    const a = await createDataset(
      config("Flat", { path: join(root, "flat"), dev_split: 0.2, test_split: 0.2 }),
    );
    const b = await createDataset(
      config("Flat", { path: join(root, "flat"), dev_split: 0.2, test_split: 0.2 }),
    );
    expect(a.classNames).toEqual(["dark", "light"]);
    expect(Array.from(a.subset("dev").sourceIndex)).toEqual(Array.from(b.subset("dev").sourceIndex));
    expect(a.subset("train").size + a.subset("dev").size + a.subset("test").size).toBe(20);
    const split = join(root, "split");
    await twoClassFolder(join(split, "train"), 8);
    await twoClassFolder(join(split, "test"), 2);
    const ds = await createDataset(config("Split", { path: split, dev_split: 0.25 }));
    expect(ds.subset("test").size).toBe(4);
    expect(ds.subset("dev").size).toBe(4);
    expect(ds.subset("train").size).toBe(12);
    for (let p = 0; p < ds.subset("test").size; p++)
      expect(ds.sourceFiles?.[ds.subset("test").sourceIndex[p] as number]).toMatch(/^test\//);
  });

  it("an index CSV names files, labels and splits; its rows are the source index", async () => {
    const dir = join(root, "indexed");
    mkdirSync(dir, { recursive: true });
    const lines = ["file,class,part"];
    for (let i = 0; i < 12; i++) {
      const name = `img${i}.png`;
      await solid(join(dir, "pics", name), [3, 3], [i < 6 ? 20 : 220]);
      lines.push(
        `pics/${name},${i < 6 ? "<b>dark</b>" : "light"},${i % 4 === 0 ? "test" : i % 4 === 1 ? "dev" : "train"}`,
      );
    }
    writeFileSync(join(dir, "labels.csv"), `${lines.join("\n")}\n`);
    const ds = await createDataset(
      config("Indexed", {
        path: dir,
        index: "labels.csv",
        path_column: "file",
        label_column: "class",
        split_column: "part",
        channels: 1,
      }),
    );
    expect(ds.classNames).toEqual(["<b>dark</b>", "light"]);
    expect(Array.from(ds.subset("test").sourceIndex)).toEqual([0, 4, 8]);
    await expect(
      createDataset(
        config("Indexed", { path: dir, index: "labels.csv", path_column: "file", label_column: "nope" }),
      ),
    ).rejects.toThrow(/nope/);
  });

  it("damaged images are listed all at once and nothing is cached; on_error: skip leaves them out", async () => {
    const dir = join(root, "damaged");
    await twoClassFolder(dir, 6);
    writeFileSync(join(dir, "dark", "empty.png"), "");
    writeFileSync(join(dir, "light", "text.png"), "this is not an image");
    await solid(join(dir, "light", "cut.jpg"), [64, 64], [1, 2, 3], "jpeg");
    truncateSync(join(dir, "light", "cut.jpg"), 200);
    const cacheDir = join(root, "damaged-cache");
    const error = await createDataset(config("Damaged", { path: dir, cache_dir: cacheDir })).catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    const message = (error as Error).message;
    expect(message).toMatch(/3 image\(s\)/);
    expect(message).toMatch(/empty\.png.*empty/);
    expect(message).toMatch(/text\.png/);
    expect(message).toMatch(/cut\.jpg/);
    expect(existsSync(cacheDir)).toBe(false);
    expect(readdirSync(root).filter((n) => n.startsWith("damaged-cache"))).toEqual([]);
    const skipped = await createDataset(
      config("Damaged", { path: dir, cache_dir: cacheDir, on_error: "skip" }),
    );
    const total = ["train", "dev", "test"].reduce((s, n) => s + skipped.subset(n as "train").size, 0);
    expect(total).toBe(12);
  });

  it("one class, an empty split folder, mixed sizes without image_size: each a clear error", async () => {
    const one = join(root, "one");
    for (let i = 0; i < 4; i++) await solid(join(one, "only", `${i}.png`), [3, 3], [i]);
    await expect(createDataset(config("One", { path: one }))).rejects.toThrow(/only one class/);
    const emptySplit = join(root, "empty-split");
    await twoClassFolder(join(emptySplit, "train"), 4);
    mkdirSync(join(emptySplit, "dev"), { recursive: true });
    mkdirSync(join(emptySplit, "test", "dark"), { recursive: true });
    await solid(join(emptySplit, "test", "dark", "x.png"), [6, 5], [3]);
    await expect(createDataset(config("EmptySplit", { path: emptySplit }))).rejects.toThrow(/dev/);
    const mixed = join(root, "mixed");
    await twoClassFolder(mixed, 4);
    await solid(join(mixed, "dark", "big.png"), [9, 9], [3]);
    await expect(createDataset(config("Mixed", { path: mixed }))).rejects.toThrow(
      /different sizes.*image_size/,
    );
    const sized = await createDataset(config("Mixed", { path: mixed, image_size: [6, 5] }));
    expect(sized.featureShape).toEqual([6, 5, 3]);
  });

  it("in_memory: false reads each batch's rows from the cache file and gives the same batches and statistics", async () => {
    const dir = join(root, "flat");
    const inMemory = await createDataset(config("Flat", { path: dir, in_memory: true }));
    const onDisk = await createDataset(config("Flat", { path: dir, in_memory: false }));
    for (const name of ["train", "dev", "test"] as const) {
      const a = inMemory.subset(name);
      const b = onDisk.subset(name);
      const positions = Int32Array.from({ length: a.size }, (_, i) => a.size - 1 - i);
      expect(Array.from(b.batch(positions).x)).toEqual(Array.from(a.batch(positions).x));
    }
    await expect(createDataset(config("Flat", { path: dir, in_memory: "sometimes" }))).rejects.toThrow(
      /dataset\.in_memory/,
    );
  });

  it("normalize: train statistics per channel by default, false is pixels / 255, {mean, std} on the 0–1 scale", async () => {
    const dir = join(root, "flat");
    const standard = await createDataset(config("Flat", { path: dir, channels: 1 }));
    const train = standard.subset("train");
    const x = train.batch(Int32Array.from({ length: train.size }, (_, i) => i)).x;
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    expect(mean).toBeCloseTo(0, 5);
    const given = await createDataset(
      config("Flat", { path: dir, channels: 1, normalize: { mean: [0.5], std: [0.25] } }),
    );
    const first = given.subset("train").batch([0]).x[0] as number;
    const raw = await createDataset(config("Flat", { path: dir, channels: 1, normalize: false }));
    const pixel = raw.subset("train").batch([0]).x[0] as number;
    expect(first).toBeCloseTo((pixel - 0.5) / 0.25, 5);
    await expect(createDataset(config("Flat", { path: dir, normalize: { mean: [0.5] } }))).rejects.toThrow(
      /dataset\.normalize/,
    );
    const stats = channelStats(Uint8Array.from([0, 10, 100, 20, 30, 100]), 6, 3, [0]);
    expect(Array.from(stats.mean)).toEqual([10, 20, 100]);
  });
});

const fashionImages = join(FASHION_MNIST_DEFAULT_PATH, "train-images-idx3-ubyte.gz");

describeWith(systemFile(fashionImages, "dataset-fashion-mnist"), "real images", () => {
  const N = 300;
  let labels: Uint8Array;

  beforeAll(async () => {
    const images = readIdxFile(fashionImages, { expectDims: 3, limit: N });
    labels = readIdxFile(join(FASHION_MNIST_DEFAULT_PATH, "train-labels-idx1-ubyte.gz"), {
      expectDims: 1,
      limit: N,
    }).data as Uint8Array;
    const index = ["path,label"];
    for (let i = 0; i < N; i++) {
      const pixels = Buffer.from(images.data.subarray(i * 784, (i + 1) * 784));
      const png = sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } });
      const label = `class${labels[i]}`;
      await png
        .clone()
        .png()
        .toFile(join(mkdirOf(join(root, "fashion-png", label)), `${i}.png`));
      await png
        .clone()
        .jpeg({ quality: 95 })
        .toFile(join(mkdirOf(join(root, "fashion-jpeg-index", "files")), `${i}.jpg`));
      index.push(`files/${i}.jpg,${label}`);
    }
    writeFileSync(join(root, "fashion-jpeg-index", "index.csv"), `${index.join("\n")}\n`);
  });

  const layouts = {
    "PNG class folders": { path: join(root, "fashion-png") },
    "JPEG index CSV": { path: join(root, "fashion-jpeg-index"), index: "index.csv" },
  };

  for (const [name, layout] of Object.entries(layouts)) {
    it(`${name}: the CNN trains, CELoss scores it, and every score row names its file`, async () => {
      const dataset = {
        id: "MyImages",
        type: "ImageFolder",
        channels: 1,
        dev_split: 0.2,
        test_split: 0.2,
        cache_dir: join(root, `cache-${name.replace(/\W/g, "")}`),
        ...layout,
      };
      await preprocessDataset(dataset as unknown as DatasetConfig);
      const resultsDir = join(root, `results-${name.replace(/\W/g, "")}`);
      const run = "images_cnn";
      const result = await trainRun(
        blobConfig({
          results_dir: resultsDir,
          experiment_id: "default",
          seed: 1,
          batch_size: 32,
          learning_rate: 0.001,
          iterations: 4,
          dataset,
          model: { id: "CNN", type: "CNN", channels: [8, 16], hidden: 32, dropout: 0.25 },
          optimizer: { id: "Adam", type: "Adam" },
        }),
        { runDir: join(resultsDir, "default", "training", run), log: null, progress: false },
      );
      expect(result.test.accuracy).toBeGreaterThan(0.3);
      const { rows } = await executeScore(
        scoreManagerConfig(resultsDir, { id: "CELoss", type: "CELoss", run_name: run }),
      );
      const ds = await createDataset(dataset as unknown as DatasetConfig);
      expect(rows.index.length).toBe(ds.subset("train").size);
      for (let i = 0; i < rows.index.length; i++) {
        const file = ds.sourceFiles?.[rows.sourceIndex[i] as number] as string;
        const imageNumber = Number(basename(file).replace(/\.(png|jpg)$/, ""));
        // The file's number is its position in the IDX file, whose label the row must carry.
        expect(rows.decoded[i]).toBe(`class${labels[imageNumber]}`);
      }
    });
  }
});

function mkdirOf(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
