import { closeSync, existsSync, openSync, statSync, writeSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeDirAtomic } from "../util/atomic.js";
import { ConfigError, DataError } from "../util/errors.js";
import { fileSha256, textSha256 } from "../util/fingerprint.js";
import { encodeNpy, loadNpy, npyHeader, readNpyLayout } from "../util/npy.js";
import { createProgress, writeLine } from "../util/progress.js";
import { Rng } from "../util/rng.js";
import { cacheMatches, cacheWriteError, ensureCache, problemLines, writeCacheKey } from "./feature-cache.js";
import { encodeWith, sortClassNames } from "./labels.js";
import { frameCount, isPowerOfTwo, type LogMelParams, logMelSpectrogram, melFilterbank } from "./logmel.js";
import {
  booleanOption,
  type DatasetOptions,
  inMemoryOption,
  numberOption,
  optionalNumber,
  optionalString,
  splitFractions,
  splitSeed,
  stringOption,
} from "./options.js";
import { resolveDataPath } from "./paths.js";
import { fitLength, mixToMono, resample } from "./resample.js";
import {
  assertNonEmptySplits,
  heldOutCounts,
  randomSplit,
  type SplitRows,
  stratifiedSplit,
} from "./splits.js";
import { featureStore, forEachRow, openRows, type RowFile, SplitDataset, ViewSubset } from "./store.js";
import { type FileIndex, readFileIndex, rowRef } from "./table.js";
import { type Dataset, SUBSET_NAMES, type SubsetName } from "./types.js";

/**
 * Audio files listed in a CSV index (columns path, label and optionally split; paths relative to
 * the root folder `path`). `preprocessDataset` decodes every file once (audio-decode), mixes to
 * mono, resamples, pads/trims to `duration` seconds and stores log-mel spectrograms as `.npy` in a
 * cache folder with a `cache_key.json` of the parameters; `createDataset` only reads the cache
 * (building it first if it is missing or stale), so audio is never decoded twice.
 */
export interface AudioFolderSettings {
  root: string;
  indexPath: string;
  pathColumn: string;
  labelColumn: string;
  splitColumn: string;
  duration: number;
  cacheDir: string;
  params: LogMelParams;
  /** The parameters the cache depends on, as stored in cache_key.json. */
  key: Record<string, unknown>;
}

const CACHE_FORMAT = 1;

export function audioFolderSettings(config: DatasetOptions): AudioFolderSettings {
  const rootOption = optionalString(config, "path");
  if (!rootOption) throw new ConfigError("dataset.path", "required: the root folder of the audio files");
  const root = resolveDataPath(rootOption);
  const indexPath = resolve(root, stringOption(config, "index", "index.csv"));
  const sampleRate = numberOption(config, "sample_rate", 16000, { integer: true, above: 0 });
  const nFft = numberOption(config, "n_fft", 512, { integer: true, min: 2 });
  if (!isPowerOfTwo(nFft)) throw new ConfigError("dataset.n_fft", `expected a power of two, got ${nFft}`);
  const params: LogMelParams = {
    sampleRate,
    nFft,
    hopLength: numberOption(config, "hop_length", 160, { integer: true, above: 0 }),
    nMels: numberOption(config, "n_mels", 64, { integer: true, above: 0 }),
    fmin: numberOption(config, "fmin", 0, { min: 0 }),
    fmax: optionalNumber(config, "fmax", { above: 0, max: sampleRate / 2 }) ?? sampleRate / 2,
  };
  if (params.fmin >= params.fmax) {
    throw new ConfigError("dataset.fmin", `must be below fmax (${params.fmax}), got ${params.fmin}`);
  }
  const duration = numberOption(config, "duration", 1, { above: 0 });
  const pathColumn = stringOption(config, "path_column", "path");
  const labelColumn = stringOption(config, "label_column", "label");
  const splitColumn = stringOption(config, "split_column", "split");
  const indexHash = existsSync(indexPath) ? fileSha256(indexPath) : "";
  const key = {
    format: CACHE_FORMAT,
    index: indexPath,
    index_sha256: indexHash,
    path_column: pathColumn,
    label_column: labelColumn,
    split_column: splitColumn,
    sample_rate: sampleRate,
    duration,
    n_fft: params.nFft,
    hop_length: params.hopLength,
    n_mels: params.nMels,
    fmin: params.fmin,
    fmax: params.fmax,
  };
  const digest = textSha256(JSON.stringify(key)).slice(0, 12);
  const cacheOption = optionalString(config, "cache_dir");
  const cacheDir = cacheOption
    ? resolveDataPath(cacheOption)
    : join(root, ".curricula-cache", `logmel-${digest}`);
  return { root, indexPath, pathColumn, labelColumn, splitColumn, duration, cacheDir, params, key };
}

function readIndex(s: AudioFolderSettings): FileIndex {
  return readFileIndex(
    s.indexPath,
    s.root,
    { path: s.pathColumn, label: s.labelColumn, split: s.splitColumn },
    { index: "audio index", paths: "file paths" },
  );
}

/** Cache parts: one per split when the index has a split column, else one for all rows. */
function cacheParts(index: FileIndex): Record<string, Int32Array> {
  if (!index.split) return { all: Int32Array.from(index.files, (_, i) => i) };
  const parts: Record<string, number[]> = { train: [], dev: [], test: [] };
  index.split.forEach((name, r) => {
    parts[name]?.push(r);
  });
  return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Int32Array.from(v)]));
}

type Decoder = (bytes: Uint8Array) => Promise<{ channelData: Float32Array[]; sampleRate: number }>;

async function loadDecoder(): Promise<Decoder> {
  const mod = (await import("audio-decode")) as unknown as { default: Decoder };
  return mod.default;
}

/**
 * The sample count a RIFF/WAVE file's `data` chunk declares and the count it actually holds (null
 * for other formats or an unreadable header): a file cut short keeps its header's original size.
 */
export function wavDataSizes(bytes: Uint8Array): { declared: number; present: number } | null {
  const text = (at: number, n: number) => String.fromCharCode(...bytes.subarray(at, at + n));
  if (bytes.length < 12 || text(0, 4) !== "RIFF" || text(8, 4) !== "WAVE") return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let blockAlign = 0;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = text(at, 4);
    const size = view.getUint32(at + 4, true);
    if (id === "fmt " && at + 8 + 14 <= bytes.length) blockAlign = view.getUint16(at + 8 + 12, true);
    if (id === "data") {
      if (blockAlign === 0) return null;
      const present = Math.max(0, Math.min(size, bytes.length - at - 8));
      return { declared: Math.floor(size / blockAlign), present: Math.floor(present / blockAlign) };
    }
    at += 8 + size + (size % 2);
  }
  return null;
}

/** Clips shorter than this fraction of `duration` are reported (they are mostly padding). */
export const SHORT_CLIP_FRACTION = 0.1;

/**
 * Decodes one file into the model's log-mel features (frames × n_mels). A file without samples,
 * or with fewer than one analysis window (`n_fft`), is an error naming the file and the row; a
 * clip far shorter than `duration` or a WAV holding less than its header declares is passed to
 * `warn` (the caller reports them together).
 */
export async function audioFileFeatures(
  file: string,
  where: string,
  s: Pick<AudioFolderSettings, "duration" | "params">,
  decode: Decoder,
  filterbank: Float32Array,
  warn: (message: string) => void = () => {},
): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new DataError(`${file}: audio file not found (${where})`);
  }
  let audio: { channelData: Float32Array[]; sampleRate: number };
  try {
    audio = await decode(bytes);
  } catch (error) {
    throw new DataError(`${file}: cannot decode audio (${where}): ${(error as Error).message}`);
  }
  const mono = mixToMono(audio.channelData);
  if (mono.length === 0 || !(audio.sampleRate > 0)) {
    throw new DataError(`${file}: cannot decode audio (${where}): no samples (an empty or header-only file)`);
  }
  const resampled = resample(mono, audio.sampleRate, s.params.sampleRate);
  const seconds = mono.length / audio.sampleRate;
  if (resampled.length < s.params.nFft) {
    throw new DataError(
      `${file}: audio too short (${where}): ${mono.length} samples (${formatSeconds(seconds)}), fewer than ` +
        `one analysis window (n_fft = ${s.params.nFft} at ${s.params.sampleRate} Hz); the file is probably truncated`,
    );
  }
  const wav = wavDataSizes(bytes);
  if (wav && wav.present < wav.declared) {
    warn(
      `${file} (${where}): truncated: its header declares ${wav.declared} samples, the file holds ${wav.present}`,
    );
  } else if (seconds < SHORT_CLIP_FRACTION * s.duration) {
    warn(
      `${file} (${where}): ${formatSeconds(seconds)} long, far shorter than duration = ${s.duration} s (padded with silence)`,
    );
  }
  return logMelSpectrogram(
    fitLength(resampled, Math.round(s.duration * s.params.sampleRate)),
    s.params,
    filterbank,
  );
}

function formatSeconds(seconds: number): string {
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(2)} s`;
}

/** Fails before any decoding when a split would be empty (sizes depend only on the index). */
function checkSplitSizes(
  datasetId: string,
  s: AudioFolderSettings,
  index: FileIndex,
  fractions: { dev: number; test: number },
): void {
  if (index.split) {
    const count = (name: SubsetName) => index.split?.filter((v) => v === name).length ?? 0;
    const none = (name: SubsetName) => `no row of ${s.indexPath} has ${s.splitColumn} = ${name}`;
    assertNonEmptySplits(
      datasetId,
      { train: count("train"), dev: count("dev"), test: count("test") },
      { train: none("train"), dev: none("dev"), test: none("test") },
    );
    return;
  }
  const n = index.files.length;
  const held = heldOutCounts(n, fractions.dev, fractions.test);
  assertNonEmptySplits(
    datasetId,
    { train: n - held.dev - held.test, dev: held.dev, test: held.test },
    { dev: `${n} files × dev_split ${fractions.dev}`, test: `${n} files × test_split ${fractions.test}` },
  );
}

/** Builds the feature cache (unless it is already valid). */
export async function preprocessAudioFolder(
  config: DatasetOptions & { id: string },
  options: { force?: boolean } = {},
): Promise<void> {
  const s = audioFolderSettings(config);
  if (!options.force && cacheMatches(s.cacheDir, s.key)) return;
  const index = readIndex(s);
  checkSplitSizes(config.id, s, index, splitFractions(config, { dev: 0.2, test: 0.2 }));
  await buildCache(s, index);
}

async function buildCache(s: AudioFolderSettings, index: FileIndex): Promise<void> {
  const fb = melFilterbank(s.params.sampleRate, s.params.nFft, s.params.nMels, s.params.fmin, s.params.fmax);
  const frames = frameCount(Math.round(s.duration * s.params.sampleRate), s.params.hopLength);
  const size = frames * s.params.nMels;
  const parts = cacheParts(index);
  const missing = index.files.flatMap((file, r) =>
    existsSync(file) ? [] : [`${file}: audio file not found (${rowRef(index.table, r)} of ${s.indexPath})`],
  );
  if (missing.length > 0) throw unreadableFiles(missing, "missing", s.indexPath);
  const progress = createProgress("Preprocess", index.files.length, { unit: "files" });
  const warnings: string[] = [];
  // Every file is tried: the ones that cannot be decoded are listed together, not one per attempt.
  const failures: string[] = [];
  try {
    await writeDirAtomic(s.cacheDir, async (tmp) => {
      // Loaded once the cache's folder could be made: an unwritable data folder is said first.
      const decode = await loadDecoder();
      for (const [name, rows] of Object.entries(parts)) {
        // Each file's features are written to its row as it is decoded: memory holds one file's.
        const fd = openSync(join(tmp, `${name}.npy`), "w");
        try {
          const header = npyHeader("<f4", [rows.length, frames, s.params.nMels]);
          writeSync(fd, header);
          for (let i = 0; i < rows.length; i++) {
            const r = rows[i] as number;
            const where = `${rowRef(index.table, r)} of ${s.indexPath}`;
            try {
              const features = await audioFileFeatures(index.files[r] as string, where, s, decode, fb, (w) =>
                warnings.push(w),
              );
              if (features.length !== size)
                throw new Error(`${where}: ${features.length} features, expected ${size}`);
              const bytes = new Uint8Array(features.buffer, features.byteOffset, features.byteLength);
              writeSync(fd, bytes, 0, bytes.length, header.length + i * bytes.length);
            } catch (error) {
              if (!(error instanceof DataError)) throw error;
              failures.push(error.message);
            }
            progress.increment(1);
          }
        } finally {
          closeSync(fd);
        }
        if (failures.length > 0) continue;
        await writeFile(join(tmp, `${name}_rows.npy`), encodeNpy(rows, [rows.length]));
      }
      if (failures.length > 0) throw unreadableFiles(failures, "undecodable", s.indexPath);
      await writeCacheKey(tmp, s.key);
    });
  } catch (error) {
    throw cacheWriteError(error, s.cacheDir);
  } finally {
    progress.stop();
  }
  if (warnings.length > 0) {
    writeLine(`warning: ${warnings.length} audio file(s) of ${s.indexPath} may be damaged or too short:`);
    for (const line of problemLines(warnings)) writeLine(line);
  }
}

/** One error listing every missing or undecodable file of an index (the first 20 in full). */
function unreadableFiles(problems: readonly string[], what: string, indexPath: string): DataError {
  if (problems.length === 1) return new DataError(problems[0] as string);
  return new DataError(
    `${indexPath}: ${problems.length} audio files are ${what}; fix or remove them all, then run again:\n${problemLines(problems).join("\n")}`,
  );
}

/**
 * Mean and standard deviation of all values of the given rows (for input standardisation), from
 * memory or a chunk of rows at a time from the cache file (the same sums in the same order).
 */
export function rowStats(
  data: Float32Array | RowFile,
  width: number,
  rows: ArrayLike<number>,
): { mean: number; std: number } {
  let sum = 0;
  let sq = 0;
  forEachRow(data, width, rows, (values, base) => {
    for (let j = 0; j < width; j++) {
      const v = values[base + j] as number;
      sum += v;
      sq += v * v;
    }
  });
  const n = rows.length * width;
  const mean = n > 0 ? sum / n : 0;
  const std = n > 0 ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : 1;
  return { mean, std: std > 1e-12 ? std : 1 };
}

export async function createAudioFolder(config: DatasetOptions & { id: string }): Promise<Dataset> {
  const seed = splitSeed(config);
  const s = audioFolderSettings(config);
  const fractions = splitFractions(config, { dev: 0.2, test: 0.2 });
  const stratify = booleanOption(config, "stratify", true);
  const normalize = booleanOption(config, "normalize", true);
  const index = readIndex(s);
  checkSplitSizes(config.id, s, index, fractions);
  await ensureCache(s.cacheDir, s.key, () => buildCache(s, index));
  const classNames = sortClassNames(index.labels);
  const codes = encodeWith(classNames, index.labels);
  const frames = frameCount(Math.round(s.duration * s.params.sampleRate), s.params.hopLength);
  const width = frames * s.params.nMels;
  const inMemory = inMemoryOption(config);
  // Each part's features: in memory, or read a batch's rows at a time from its `.npy` (`in_memory`).
  const load = (name: string) => {
    const path = join(s.cacheDir, `${name}.npy`);
    const rows = loadNpy(join(s.cacheDir, `${name}_rows.npy`));
    const stale = () =>
      new DataError(`${path}: unexpected cache content; delete ${s.cacheDir} and preprocess again`);
    let layout: { descr: string; shape: number[]; dataOffset: number };
    try {
      layout = readNpyLayout(path);
    } catch (error) {
      throw new DataError(
        `${path}: unreadable cache (${(error as Error).message}); delete ${s.cacheDir} and preprocess again`,
      );
    }
    const count = layout.shape[0] as number;
    if (
      layout.descr !== "<f4" ||
      !(rows.data instanceof Int32Array) ||
      layout.shape.length !== 3 ||
      layout.shape[1] !== frames ||
      layout.shape[2] !== s.params.nMels ||
      count !== rows.data.length ||
      statSync(path).size !== layout.dataOffset + count * width * 4
    ) {
      throw stale();
    }
    const features = openRows(
      path,
      { descr: "<f4", dataOffset: layout.dataOffset },
      width,
      count,
      inMemory,
    ) as Float32Array | RowFile;
    return { features, rows: rows.data };
  };
  const subsets = {} as Record<SubsetName, ViewSubset>;
  const makeView = (
    name: SubsetName,
    data: Float32Array | RowFile,
    positions: Int32Array,
    indexRows: Int32Array,
    stats: { mean: number; std: number },
  ) => {
    const store = featureStore(data, width, normalize ? { offset: -stats.mean, scale: 1 / stats.std } : {});
    const source = Int32Array.from(positions, (p) => indexRows[p] as number);
    const labels = Int32Array.from(source, (r) => codes[r] as number);
    return new ViewSubset(name, store, positions, labels, source);
  };
  const identity = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  if (index.split) {
    const parts = Object.fromEntries(SUBSET_NAMES.map((n) => [n, load(n)])) as Record<
      SubsetName,
      { features: Float32Array | RowFile; rows: Int32Array }
    >;
    const stats = rowStats(parts.train.features, width, identity(parts.train.rows.length));
    for (const name of SUBSET_NAMES) {
      const part = parts[name];
      subsets[name] = makeView(name, part.features, identity(part.rows.length), part.rows, stats);
    }
  } else {
    const all = load("all");
    const rng = Rng.derive(seed, "split");
    const split: SplitRows = stratify
      ? stratifiedSplit(codes, classNames.length, fractions, rng)
      : randomSplit(codes.length, fractions, rng);
    // Cache rows of "all" are index rows 0..n-1 in order, so split rows are store rows too.
    const stats = rowStats(all.features, width, split.train);
    for (const name of SUBSET_NAMES)
      subsets[name] = makeView(name, all.features, split[name], all.rows, stats);
  }
  return new SplitDataset({
    id: config.id,
    featureShape: [frames, s.params.nMels, 1],
    classNames,
    isImage: false,
    subsets,
  });
}
