import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { extname, join, relative, resolve } from "node:path";
import { writeDirAtomic } from "../util/atomic.js";
import { coreShare } from "../util/cores.js";
import { ConfigError, DataError } from "../util/errors.js";
import { fileSha256, textSha256 } from "../util/fingerprint.js";
import { encodeNpy, loadNpy, npyHeader, readNpyLayout } from "../util/npy.js";
import { createProgress, writeLine } from "../util/progress.js";
import { Rng } from "../util/rng.js";
import { cacheMatches, cacheWriteError, ensureCache, problemLines, writeCacheKey } from "./feature-cache.js";
import { FastDecoderPool } from "./image-workers.js";
import { encodeWith, sortClassNames } from "./labels.js";
import {
  booleanOption,
  type DatasetOptions,
  inMemoryOption,
  optionalString,
  splitFractions,
  splitSeed,
  stringOption,
} from "./options.js";
import { resolveDataPath } from "./paths.js";
import type { DecodedImage } from "./png-decode.js";
import {
  assertNonEmptySplits,
  heldOutCounts,
  randomSplit,
  type SplitRows,
  stratifiedSplit,
} from "./splits.js";
import { featureStore, forEachRow, openRows, type RowFile, SplitDataset, ViewSubset } from "./store.js";
import { readFileIndex, rowRef } from "./table.js";
import { type Dataset, SUBSET_NAMES, type SubsetName } from "./types.js";

/**
 * Images in a folder, the way a user keeps them: class sub-folders (`<path>/<class>/<file>`, or
 * `<path>/<split>/<class>/<file>` with `train/`, optional `dev/` and `test/`), or an index CSV
 * (`index`, `path_column`, `label_column`, optional `split_column`; paths relative to `path`).
 * Every image is decoded once as sharp decodes it (PNG, JPEG, WebP, TIFF, GIF's first frame; 8 or 16
 * bits; grey, RGB, RGBA or palette; EXIF orientation applied; the PNG and JPEG files that worker
 * threads can decode to the same bytes without sharp, by them), resized to `image_size` and stored as
 * uint8 `[n, h, w, channels]` in a cache folder keyed by every parameter and the index's
 * fingerprint; training reads only the cache. Per-channel normalisation uses the train split's
 * statistics unless `normalize` gives them (or is false: pixels / 255).
 */
export interface ImageFolderSettings {
  root: string;
  /** The index CSV, or null for class sub-folders. */
  indexPath: string | null;
  pathColumn: string;
  labelColumn: string;
  splitColumn: string;
  /** [h, w], or null: every image must have the same size. */
  imageSize: [number, number] | null;
  resize: "stretch" | "crop" | "pad";
  channels: 1 | 3;
  onError: "stop" | "skip";
  cacheDir: string;
  /** The parameters the cache depends on, as stored in cache_key.json. */
  key: Record<string, unknown>;
}

const CACHE_FORMAT = 1;
const FILES_FILE = "files.json";
const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".gif"];
/** Files the worker threads try first (PNG, JPEG: see png-decode.ts, jpeg-decode.ts); sharp takes the rest. */
const FAST_EXTENSIONS = [".png", ".jpg", ".jpeg"];
const RESIZE_MODES = ["stretch", "crop", "pad"] as const;
const ON_ERROR = ["stop", "skip"] as const;

/** One image of the dataset: its file, its label and (when the layout says) its split. */
interface ImageEntry {
  file: string;
  label: string;
  split: SubsetName | null;
  /** Where it comes from, for messages: a row of the index or the file itself. */
  where: string;
}

interface ImageIndex {
  entries: ImageEntry[];
  /** True when every entry has a split (split folders or a split column). */
  hasSplit: boolean;
}

function imageSizeOption(config: DatasetOptions): [number, number] | null {
  const value = (config as Record<string, unknown>).image_size;
  if (value === undefined || value === null) return null;
  const ok =
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((v) => typeof v === "number" && Number.isInteger(v) && v > 0 && v <= 4096);
  if (!ok)
    throw new ConfigError(
      "dataset.image_size",
      `expected [height, width] (positive integers up to 4096), got ${JSON.stringify(value)}`,
    );
  return [value[0] as number, value[1] as number];
}

function isImageFile(name: string): boolean {
  return !name.startsWith(".") && IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort();
}

/** The images under `<dir>/<class>/…` (one level of class folders; files sorted). */
function classFolderEntries(root: string, dir: string, split: SubsetName | null): ImageEntry[] {
  const entries: ImageEntry[] = [];
  for (const label of subfolders(dir)) {
    const classDir = join(dir, label);
    const files = readdirSync(classDir, { withFileTypes: true })
      .filter((e) => e.isFile() && isImageFile(e.name))
      .map((e) => e.name)
      .sort();
    for (const name of files) {
      const file = join(classDir, name);
      entries.push({ file, label, split, where: relative(root, file) });
    }
  }
  return entries;
}

function listingFingerprint(root: string, entries: readonly ImageEntry[]): string {
  const lines = entries.map((e) => {
    const stat = statSync(e.file);
    return `${relative(root, e.file)}\t${e.label}\t${e.split ?? ""}\t${stat.size}\t${stat.mtimeMs}`;
  });
  return textSha256(lines.join("\n"));
}

/** The images of the folder, by index CSV or by class sub-folders, with clear errors for bad layouts. */
function readImageIndex(s: ImageFolderSettings): ImageIndex {
  if (s.indexPath) {
    const index = readFileIndex(
      s.indexPath,
      s.root,
      { path: s.pathColumn, label: s.labelColumn, split: s.splitColumn },
      { index: "image index", paths: "image file paths" },
    );
    const entries: ImageEntry[] = index.files.map((file, r) => ({
      file,
      label: index.labels[r] as string,
      split: index.split?.[r] ?? null,
      where: `${rowRef(index.table, r)} of ${s.indexPath}`,
    }));
    return { entries, hasSplit: index.split !== null };
  }
  if (!existsSync(s.root) || !statSync(s.root).isDirectory())
    throw new DataError(`${s.root}: image folder not found (dataset.path)`);
  const top = subfolders(s.root);
  let entries: ImageEntry[];
  let hasSplit = false;
  if (top.includes("train")) {
    const unexpected = top.filter((name) => !(SUBSET_NAMES as readonly string[]).includes(name));
    if (unexpected.length > 0)
      throw new DataError(
        `${s.root}: a split layout holds train/, dev/ and test/ only; also found ${unexpected.map((n) => `${n}/`).join(", ")}`,
      );
    entries = SUBSET_NAMES.flatMap((name) =>
      top.includes(name) ? classFolderEntries(s.root, join(s.root, name), name) : [],
    );
    hasSplit = top.includes("dev") && top.includes("test");
    // A split folder that is missing is carved out of train/ by dev_split / test_split.
    if (!hasSplit) for (const e of entries) if (e.split === "train") e.split = null;
  } else {
    entries = classFolderEntries(s.root, s.root, null);
  }
  if (entries.length === 0)
    throw new DataError(
      `${s.root}: no images found (expected <class>/<file> or train/<class>/<file> with ${IMAGE_EXTENSIONS.join(", ")} files)`,
    );
  return { entries, hasSplit };
}

export function imageFolderSettings(config: DatasetOptions): ImageFolderSettings {
  return readSettings(config).s;
}

/**
 * The settings, and the folder's listing when the cache key needed it (class folders, whose key
 * holds the listing's fingerprint): the caller reads the index only when it is null.
 */
function readSettings(config: DatasetOptions): { s: ImageFolderSettings; listed: ImageIndex | null } {
  const rootOption = optionalString(config, "path");
  if (!rootOption) throw new ConfigError("dataset.path", "required: the root folder of the images");
  const root = resolveDataPath(rootOption);
  const indexOption = optionalString(config, "index");
  const indexPath = indexOption ? resolve(root, indexOption) : null;
  const imageSize = imageSizeOption(config);
  const resize = stringOption(config, "resize", "stretch", RESIZE_MODES);
  const channelsValue = (config as Record<string, unknown>).channels ?? 3;
  if (channelsValue !== 1 && channelsValue !== 3)
    throw new ConfigError("dataset.channels", `expected 1 or 3, got ${JSON.stringify(channelsValue)}`);
  const onError = stringOption(config, "on_error", "stop", ON_ERROR);
  const pathColumn = stringOption(config, "path_column", "path");
  const labelColumn = stringOption(config, "label_column", "label");
  const splitColumn = stringOption(config, "split_column", "split");
  const partial = { root, indexPath, pathColumn, labelColumn, splitColumn } as ImageFolderSettings;
  const listed = !indexPath && existsSync(root) ? readImageIndex(partial) : null;
  // The index file's content, or the listing's relative paths with sizes and times.
  const fingerprint = indexPath
    ? existsSync(indexPath)
      ? fileSha256(indexPath)
      : ""
    : listed
      ? listingFingerprint(root, listed.entries)
      : "";
  const key = {
    format: CACHE_FORMAT,
    root,
    index: indexPath,
    index_sha256: fingerprint,
    path_column: pathColumn,
    label_column: labelColumn,
    split_column: splitColumn,
    image_size: imageSize,
    resize,
    channels: channelsValue,
    on_error: onError,
  };
  const digest = textSha256(JSON.stringify(key)).slice(0, 12);
  const cacheOption = optionalString(config, "cache_dir");
  // Not inside the image folder: a hidden folder there would be one more class to torchvision's
  // ImageFolder and to anyone listing the classes.
  const cacheDir = resolveDataPath(cacheOption ?? join(".curricula-cache", `images-${digest}`));
  return {
    s: { ...partial, imageSize, resize, channels: channelsValue, onError, cacheDir, key },
    listed,
  };
}

type Sharp = typeof import("sharp").default;

export async function loadSharp(): Promise<Sharp> {
  const sharp = (await import("sharp")).default;
  // Many small images: the parallelism is the decodes in flight (libuv's pool), not libvips's
  // threads within one image, and no file is decoded twice, so its operation cache only costs.
  sharp.concurrency(1);
  sharp.cache(false);
  return sharp;
}

/**
 * Decodes one image into `channels` uint8 channels, EXIF orientation applied, alpha flattened on
 * black, 16-bit samples reduced to 8 bits, resized to `size` when given (`stretch` ignores the
 * aspect ratio, `crop` fills and cuts the centre, `pad` fits and pads with black). Damaged, cut or
 * empty files are a DataError naming the file and where it is listed. The reference the fast decoders
 * (png-decode.ts, jpeg-decode.ts) are held to in their tests.
 */
export async function decodeImage(
  sharp: Sharp,
  file: string,
  where: string,
  options: { size: [number, number] | null; resize: ImageFolderSettings["resize"]; channels: 1 | 3 },
): Promise<DecodedImage> {
  if (!existsSync(file)) throw new DataError(`${file}: image file not found (${where})`);
  if (statSync(file).size === 0)
    throw new DataError(`${file}: cannot decode image (${where}): the file is empty`);
  try {
    let image = sharp(file, { failOn: "truncated", animated: false, pages: 1 })
      .rotate()
      .flatten({ background: "#000000" });
    if (options.size) {
      const [height, width] = options.size;
      const fit = options.resize === "stretch" ? "fill" : options.resize === "crop" ? "cover" : "contain";
      image = image.resize({ width, height, fit, position: "centre", background: "#000000" });
    }
    image = options.channels === 1 ? image.greyscale() : image.toColourspace("srgb");
    const { data, info } = await image.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
    if (info.channels !== options.channels) {
      // greyscale() can keep 3 channels for some inputs; take the first (they are equal).
      const n = info.width * info.height;
      const out = new Uint8Array(n * options.channels);
      for (let i = 0; i < n; i++)
        for (let c = 0; c < options.channels; c++)
          out[i * options.channels + c] = data[i * info.channels + Math.min(c, info.channels - 1)] as number;
      return { pixels: out, height: info.height, width: info.width };
    }
    return {
      pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      height: info.height,
      width: info.width,
    };
  } catch (error) {
    throw new DataError(`${file}: cannot decode image (${where}): ${(error as Error).message}`);
  }
}

/** Fails before any decoding when a class or a split would be empty. */
function checkLayout(
  datasetId: string,
  s: ImageFolderSettings,
  index: ImageIndex,
  fractions: { dev: number; test: number },
): void {
  const classes = new Set(index.entries.map((e) => e.label));
  if (classes.size < 2)
    throw new DataError(
      `${s.indexPath ?? s.root}: only one class (${[...classes].join("")}); a classifier needs at least two`,
    );
  if (index.hasSplit) {
    const count = (name: SubsetName) => index.entries.filter((e) => e.split === name).length;
    const none = (name: SubsetName) =>
      s.indexPath
        ? `no row of ${s.indexPath} has ${s.splitColumn} = ${name}`
        : `${join(s.root, name)} holds no images`;
    assertNonEmptySplits(
      datasetId,
      { train: count("train"), dev: count("dev"), test: count("test") },
      { train: none("train"), dev: none("dev"), test: none("test") },
    );
    return;
  }
  const fixed = index.entries.filter((e) => e.split !== null);
  const free = index.entries.length - fixed.length;
  const has = (name: SubsetName) => fixed.some((e) => e.split === name);
  const held = heldOutCounts(free, has("dev") ? 0 : fractions.dev, has("test") ? 0 : fractions.test);
  assertNonEmptySplits(
    datasetId,
    {
      train: free - held.dev - held.test,
      dev: has("dev") ? 1 : held.dev,
      test: has("test") ? 1 : held.test,
    },
    {
      train: `${free} images left for training`,
      dev: `${free} images × dev_split ${fractions.dev}`,
      test: `${free} images × test_split ${fractions.test}`,
    },
  );
}

interface CacheContent {
  /** uint8 n × h × w × c of the kept images, in index order: in memory, or rows of the file. */
  pixels: Uint8Array | RowFile;
  /** Index row (source index) of each cached image. */
  rows: Int32Array;
  height: number;
  width: number;
}

/** Images decoded at once while the cache is built; memory holds at most DECODE_AHEAD + 1 chunks. */
const DECODE_CHUNK = 512;
/** Chunks the worker threads decode ahead of the one being written. */
const DECODE_AHEAD = 2;
/** Bytes reserved for `images.npy`'s header, rewritten with the final count at the end. */
const HEADER_BYTES = 256;

/**
 * Decodes every image (a chunk at a time: PNG and JPEG on the worker threads of image-workers.ts,
 * what they leave through sharp on libuv's threads, several at once), checks they share a size when
 * no `image_size` is given, and writes the cache atomically, streaming: `images.npy` (uint8
 * `[n, h, w, c]`, its rows appended as each chunk is decoded, so memory holds DECODE_AHEAD + 1 chunks
 * whatever the dataset's size), `rows.npy` (the index row of each cached image), `files.json`
 * (each index row's file, relative to the root) and the key last. Every undecodable file is listed at
 * once; with `on_error: skip` they are left out.
 */
async function buildCache(s: ImageFolderSettings, index: ImageIndex): Promise<void> {
  // Loaded when a file needs it (a third of a second): a folder of plain PNG or JPEG files never does.
  let sharp: Promise<Sharp> | null = null;
  const n = index.entries.length;
  const failures: { row: number; message: string }[] = [];
  const kept: number[] = [];
  const sizes = new Map<string, number>();
  let first: { height: number; width: number } | null = null;
  const progress = createProgress("Preprocess", n, { unit: "images" });
  const concurrency = Math.max(2, availableParallelism() * 2);
  const pool = new FastDecoderPool(coreShare({ cores: availableParallelism(), env: process.env }).share);
  try {
    await writeDirAtomic(s.cacheDir, async (tmp) => {
      const imagesPath = join(tmp, "images.npy");
      const fd = openSync(imagesPath, "w");
      try {
        writeSync(fd, npyHeader("|u1", [0, 0, 0, s.channels], HEADER_BYTES));
        // The PNG and JPEG files of rows [from, to) decoded on the workers (null: left to sharp); the
        // next chunks are decoded there while this one goes through sharp and into the file.
        const fastDecode = async (from: number, to: number): Promise<(DecodedImage | null)[]> => {
          const out: (DecodedImage | null)[] = new Array(to - from).fill(null);
          const rows: number[] = [];
          for (let r = from; r < to; r++)
            if (FAST_EXTENSIONS.includes(extname((index.entries[r] as ImageEntry).file).toLowerCase()))
              rows.push(r);
          const decoded = await pool.decode(
            rows.map((r) => (index.entries[r] as ImageEntry).file),
            s.channels,
            s.imageSize,
          );
          decoded.forEach((image, i) => {
            if (image) out[(rows[i] as number) - from] = image;
          });
          progress.increment(rows.length - decoded.filter((d) => !d).length);
          return out;
        };
        const ahead: Promise<(DecodedImage | null)[]>[] = [];
        let asked = 0;
        const ask = () => {
          for (; ahead.length < DECODE_AHEAD && asked < n; asked += DECODE_CHUNK) {
            const chunk = fastDecode(asked, Math.min(n, asked + DECODE_CHUNK));
            chunk.catch(() => undefined); // awaited below; not unhandled if the loop stops first
            ahead.push(chunk);
          }
        };
        ask();
        for (let start = 0; start < n; start += DECODE_CHUNK) {
          const chunk = await (ahead.shift() as Promise<(DecodedImage | null)[]>);
          ask();
          // What the workers left (other formats, files they cannot be sure of): sharp, several at once.
          const rest: number[] = [];
          chunk.forEach((image, i) => {
            if (!image) rest.push(start + i);
          });
          let next = 0;
          const worker = async () => {
            for (;;) {
              const r = rest[next++];
              if (r === undefined) return;
              const entry = index.entries[r] as ImageEntry;
              try {
                sharp ??= loadSharp();
                chunk[r - start] = await decodeImage(await sharp, entry.file, entry.where, {
                  size: s.imageSize,
                  resize: s.resize,
                  channels: s.channels,
                });
              } catch (error) {
                failures.push({ row: r, message: (error as Error).message });
              }
              progress.increment(1);
            }
          };
          await Promise.all(Array.from({ length: Math.min(concurrency, rest.length) }, worker));
          // Images that lie one after the other in one buffer (a worker's reply) go out in one write.
          let run: Uint8Array | null = null;
          const flush = () => {
            if (run) writeSync(fd, run);
            run = null;
          };
          chunk.forEach((image, i) => {
            if (!image) return;
            const r = start + i;
            const size = `${image.height}x${image.width}`;
            if (!sizes.has(size)) sizes.set(size, r);
            first ??= { height: image.height, width: image.width };
            if (image.height !== first.height || image.width !== first.width) return;
            kept.push(r);
            const p = image.pixels;
            const current = run as Uint8Array | null;
            if (
              current &&
              current.buffer === p.buffer &&
              current.byteOffset + current.byteLength === p.byteOffset
            ) {
              run = new Uint8Array(p.buffer, current.byteOffset, current.byteLength + p.byteLength);
            } else {
              flush();
              run = p;
            }
          });
          flush();
        }
        const shape = first as { height: number; width: number } | null;
        writeSync(
          fd,
          npyHeader("|u1", [kept.length, shape?.height ?? 0, shape?.width ?? 0, s.channels], HEADER_BYTES),
          0,
          HEADER_BYTES,
          0,
        );
      } finally {
        closeSync(fd);
      }
      failures.sort((a, b) => a.row - b.row);
      if (failures.length > 0 && s.onError === "stop") {
        throw new DataError(
          `${failures.length} image(s) of ${s.indexPath ?? s.root} cannot be decoded (set dataset.on_error=skip to leave them out):\n${problemLines(failures.map((f) => f.message)).join("\n")}`,
        );
      }
      if (kept.length === 0) throw new DataError(`${s.indexPath ?? s.root}: no image could be decoded`);
      if (sizes.size > 1) {
        const examples = [...sizes.entries()]
          .slice(0, 3)
          .map(([size, r]) => `${size} (${index.entries[r]?.where})`)
          .join(", ");
        throw new DataError(
          `${s.indexPath ?? s.root}: images of ${sizes.size} different sizes (${examples}); set dataset.image_size=[h,w] to resize them`,
        );
      }
      const files = index.entries.map((e) => relative(s.root, e.file));
      await writeFile(join(tmp, "rows.npy"), encodeNpy(Int32Array.from(kept), [kept.length]));
      await writeFile(join(tmp, FILES_FILE), `${JSON.stringify(files)}\n`);
      await writeCacheKey(tmp, s.key);
    });
  } catch (error) {
    throw cacheWriteError(error, s.cacheDir);
  } finally {
    progress.stop();
    await pool.close();
  }
  if (failures.length > 0) {
    writeLine(
      `warning: ${failures.length} image(s) of ${s.indexPath ?? s.root} cannot be decoded and are left out:`,
    );
    for (const line of problemLines(failures.map((f) => f.message))) writeLine(line);
  }
}

/** The cache: pixels in memory, or read a batch at a time from `images.npy` (`in_memory`). */
function readCache(s: ImageFolderSettings, inMemory: boolean | "auto"): CacheContent {
  const path = join(s.cacheDir, "images.npy");
  const rows = loadNpy(join(s.cacheDir, "rows.npy"));
  let layout: { descr: string; shape: number[]; dataOffset: number };
  try {
    layout = readNpyLayout(path);
  } catch (error) {
    throw new DataError(
      `${path}: unreadable cache (${(error as Error).message}); delete ${s.cacheDir} and preprocess again`,
    );
  }
  const [count, height, width, channels] = layout.shape as number[];
  const rowBytes = (height as number) * (width as number) * s.channels;
  if (
    layout.descr !== "|u1" ||
    !(rows.data instanceof Int32Array) ||
    layout.shape.length !== 4 ||
    count !== rows.data.length ||
    channels !== s.channels ||
    statSync(path).size !== layout.dataOffset + (count as number) * rowBytes
  ) {
    throw new DataError(`${path}: unexpected cache content; delete ${s.cacheDir} and preprocess again`);
  }
  const pixels = openRows(
    path,
    { descr: "|u1", dataOffset: layout.dataOffset },
    rowBytes,
    count as number,
    inMemory,
  ) as Uint8Array | RowFile;
  return { pixels, rows: rows.data, height: height as number, width: width as number };
}

/** Builds the image cache (unless it is already valid): `curricula preprocess`. */
export async function preprocessImageFolder(
  config: DatasetOptions & { id: string },
  options: { force?: boolean } = {},
): Promise<void> {
  const { s, listed } = readSettings(config);
  if (!options.force && cacheMatches(s.cacheDir, s.key)) return;
  const index = listed ?? readImageIndex(s);
  checkLayout(config.id, s, index, splitFractions(config, { dev: 0.2, test: 0.2 }));
  await buildCache(s, index);
}

/** The `normalize` key: true (train statistics), false (pixels / 255) or {mean, std} per channel (0–1 scale). */
function normalizeOption(
  config: DatasetOptions,
  channels: number,
): "train" | "none" | { mean: number[]; std: number[] } {
  const value = (config as Record<string, unknown>).normalize;
  if (value === undefined || value === true) return "train";
  if (value === false) return "none";
  const given = value as { mean?: unknown; std?: unknown };
  const list = (v: unknown, positive: boolean) =>
    Array.isArray(v) &&
    v.length === channels &&
    v.every((x) => typeof x === "number" && Number.isFinite(x) && (!positive || x > 0));
  if (typeof value !== "object" || value === null || !list(given.mean, false) || !list(given.std, true)) {
    throw new ConfigError(
      "dataset.normalize",
      `expected true, false or {mean: [${channels} numbers], std: [${channels} positive numbers]} on the 0–1 pixel scale, got ${JSON.stringify(value)}`,
    );
  }
  return { mean: given.mean as number[], std: given.std as number[] };
}

/** Per-channel mean and standard deviation (0–255 scale) of the given store rows. */
export function channelStats(
  pixels: Uint8Array | RowFile,
  rowSize: number,
  channels: number,
  rows: ArrayLike<number>,
): { mean: Float64Array; std: Float64Array } {
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  forEachRow(pixels, rowSize, rows, (data, base) => {
    for (let j = 0; j < rowSize; j++) {
      const v = data[base + j] as number;
      const c = j % channels;
      sum[c] = (sum[c] as number) + v;
      sq[c] = (sq[c] as number) + v * v;
    }
  });
  const count = (rows.length * rowSize) / channels;
  const mean = sum.map((v) => (count > 0 ? v / count : 0));
  const std = sq.map((v, c) => {
    const m = mean[c] as number;
    const s = count > 0 ? Math.sqrt(Math.max(0, v / count - m * m)) : 1;
    return s > 1e-9 ? s : 1;
  });
  return { mean, std };
}

export async function createImageFolder(config: DatasetOptions & { id: string }): Promise<Dataset> {
  const seed = splitSeed(config);
  const { s, listed } = readSettings(config);
  const fractions = splitFractions(config, { dev: 0.2, test: 0.2 });
  const stratify = booleanOption(config, "stratify", true);
  const normalize = normalizeOption(config, s.channels);
  const index = listed ?? readImageIndex(s);
  checkLayout(config.id, s, index, fractions);
  await ensureCache(s.cacheDir, s.key, () => buildCache(s, index));
  const cache = readCache(s, inMemoryOption(config));
  const classNames = sortClassNames(index.entries.map((e) => e.label));
  const codes = encodeWith(
    classNames,
    index.entries.map((e) => e.label),
  );
  // Store row i holds index row cache.rows[i]; the split works on store rows.
  const storeCodes = Int32Array.from(cache.rows, (r) => codes[r] as number);
  const fixedSplit = Array.from(cache.rows, (r) => index.entries[r]?.split ?? null);
  const split: Record<SubsetName, number[]> = { train: [], dev: [], test: [] };
  const free: number[] = [];
  fixedSplit.forEach((name, i) => {
    if (name) split[name].push(i);
    else free.push(i);
  });
  if (free.length > 0) {
    const freeCodes = Int32Array.from(free, (i) => storeCodes[i] as number);
    const want = {
      dev: split.dev.length > 0 ? 0 : fractions.dev,
      test: split.test.length > 0 ? 0 : fractions.test,
    };
    const rng = Rng.derive(seed, "split");
    const carved: SplitRows = stratify
      ? stratifiedSplit(freeCodes, classNames.length, want, rng)
      : randomSplit(free.length, want, rng);
    for (const name of SUBSET_NAMES) for (const p of carved[name]) split[name].push(free[p] as number);
    for (const name of SUBSET_NAMES) split[name].sort((a, b) => a - b);
  }
  assertNonEmptySplits(
    config.id,
    { train: split.train.length, dev: split.dev.length, test: split.test.length },
    {
      train: "no decodable image is left for training",
      dev: "no decodable image is left for dev",
      test: "no decodable image is left for test",
    },
  );
  const rowSize = cache.height * cache.width * s.channels;
  let channels: { offsets: Float32Array; scales: Float32Array };
  if (normalize === "none") {
    channels = { offsets: new Float32Array(s.channels), scales: new Float32Array(s.channels).fill(1 / 255) };
  } else if (normalize === "train") {
    const stats = channelStats(cache.pixels, rowSize, s.channels, split.train);
    channels = {
      offsets: Float32Array.from(stats.mean, (m) => -m),
      scales: Float32Array.from(stats.std, (v) => 1 / v),
    };
  } else {
    channels = {
      offsets: Float32Array.from(normalize.mean, (m) => -m * 255),
      scales: Float32Array.from(normalize.std, (v) => 1 / (v * 255)),
    };
  }
  const store = featureStore(cache.pixels, rowSize, { channels });
  const subsets = {} as Record<SubsetName, ViewSubset>;
  for (const name of SUBSET_NAMES) {
    const rows = Int32Array.from(split[name]);
    subsets[name] = new ViewSubset(
      name,
      store,
      rows,
      Int32Array.from(rows, (i) => storeCodes[i] as number),
      Int32Array.from(rows, (i) => cache.rows[i] as number),
    );
  }
  const files = JSON.parse(readFileSync(join(s.cacheDir, FILES_FILE), "utf8")) as string[];
  return new SplitDataset({
    id: config.id,
    featureShape: [cache.height, cache.width, s.channels],
    classNames,
    isImage: true,
    imageShape: [cache.height, cache.width, s.channels],
    subsets,
    sourceFiles: files,
  });
}
