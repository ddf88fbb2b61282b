import { closeSync, openSync, readSync } from "node:fs";
import { totalmem } from "node:os";
import { loadNpy } from "../util/npy.js";
import type { Batch, Dataset, Subset, SubsetName } from "./types.js";

/** The dtypes a row file holds: uint8 (image pixels) or little-endian float32 (log-mel features). */
export type RowType = "|u1" | "<f4";

/** Bytes per value of each row dtype. */
const VALUE_BYTES: Record<RowType, number> = { "|u1": 1, "<f4": 4 };

/**
 * Rows kept on disk (a cache's `.npy` data, from `dataOffset`), uint8 or float32: a batch reads only
 * its rows, so a dataset larger than memory trains with memory bounded by the batch.
 */
export class RowFile {
  /** Bytes per row. */
  readonly rowBytes: number;

  constructor(
    readonly path: string,
    readonly dataOffset: number,
    /** Values per row. */
    readonly rowSize: number,
    readonly rows: number,
    readonly dtype: RowType = "|u1",
  ) {
    this.rowBytes = rowSize * VALUE_BYTES[dtype];
  }

  /** Values held (rows × rowSize). */
  get length(): number {
    return this.rows * this.rowSize;
  }

  /** A buffer of the file's dtype for `rows` rows. */
  buffer(rows: number): Uint8Array | Float32Array {
    return this.dtype === "<f4" ? new Float32Array(rows * this.rowSize) : new Uint8Array(rows * this.rowSize);
  }

  /** Reads the given rows, in order, into `out` (rows.length × rowSize values); adjacent rows in one read. */
  read(rows: ArrayLike<number>, out: Uint8Array | Float32Array): void {
    if (out instanceof Float32Array !== (this.dtype === "<f4")) {
      throw new Error(`${this.path}: rows of ${this.dtype} read into a ${out.constructor.name}`);
    }
    const bytesOut = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const fd = openSync(this.path, "r");
    try {
      for (let i = 0; i < rows.length; ) {
        const first = rows[i] as number;
        let run = 1;
        while (i + run < rows.length && rows[i + run] === first + run) run++;
        const bytes = run * this.rowBytes;
        const got = readSync(fd, bytesOut, i * this.rowBytes, bytes, this.dataOffset + first * this.rowBytes);
        if (got !== bytes)
          throw new Error(
            `${this.path}: rows ${first}…${first + run - 1} cut short (${got} of ${bytes} bytes)`,
          );
        i += run;
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** Rows read at a time by `forEachRow` from a row file: memory stays bounded by the chunk. */
const ROW_CHUNK = 1024;

/**
 * Calls `visit(data, start)` for each of the given rows in order, where the row's values are
 * `data[start … start + rowSize)`: straight from memory, or from a row file a chunk at a time.
 */
export function forEachRow<T extends Uint8Array | Float32Array>(
  data: T | RowFile,
  rowSize: number,
  rows: ArrayLike<number>,
  visit: (data: T, start: number) => void,
): void {
  if (!(data instanceof RowFile)) {
    for (let i = 0; i < rows.length; i++) visit(data, (rows[i] as number) * rowSize);
    return;
  }
  const buffer = data.buffer(Math.min(ROW_CHUNK, rows.length)) as T;
  for (let start = 0; start < rows.length; start += ROW_CHUNK) {
    const part = Array.from(
      { length: Math.min(ROW_CHUNK, rows.length - start) },
      (_, i) => rows[start + i] as number,
    );
    data.read(part, buffer);
    for (let i = 0; i < part.length; i++) visit(buffer, i * rowSize);
  }
}

/** Caches up to this size are read into memory by `in_memory: auto` (and at most an eighth of the RAM). */
export const IN_MEMORY_LIMIT = 1 << 30;

/**
 * A cache's `.npy` rows (its header already read and checked): the whole array in memory when
 * `inMemory` is true, or `auto` and the data fit the limit; otherwise a row file read a batch at a time.
 */
export function openRows(
  path: string,
  layout: { descr: RowType; dataOffset: number },
  rowSize: number,
  rows: number,
  inMemory: boolean | "auto",
): Uint8Array | Float32Array | RowFile {
  const file = new RowFile(path, layout.dataOffset, rowSize, rows, layout.descr);
  const bytes = rows * file.rowBytes;
  const load = inMemory === "auto" ? bytes <= Math.min(IN_MEMORY_LIMIT, totalmem() / 8) : inMemory;
  return load ? (loadNpy(path).data as Uint8Array | Float32Array) : file;
}

/**
 * Features held once in memory: `rows × featureSize` values, raw (uint8 pixels or float32), turned
 * into model input only when a batch is gathered: `x = (raw + offset) * scale`. Subsets are views
 * (row positions) into a store, so 60,000 images are never copied.
 */
export interface FeatureStore {
  readonly data: Uint8Array | Float32Array | RowFile;
  readonly featureSize: number;
  readonly offset: number;
  readonly scale: number;
  /**
   * Per-channel transform of channels-last uint8 rows (value j of a row is channel j mod
   * `offsets.length`): `x = (raw + offsets[c]) * scales[c]`, replacing `offset` and `scale`.
   */
  readonly channels?: { readonly offsets: Float32Array; readonly scales: Float32Array };
}

export function featureStore(
  data: Uint8Array | Float32Array | RowFile,
  featureSize: number,
  transform: {
    offset?: number;
    scale?: number;
    channels?: { offsets: Float32Array; scales: Float32Array };
  } = {},
): FeatureStore {
  if (featureSize <= 0 || data.length % featureSize !== 0) {
    throw new Error(`feature store: ${data.length} values do not divide into rows of ${featureSize}`);
  }
  const { channels } = transform;
  if (channels) {
    const c = channels.offsets.length;
    if (
      data instanceof Float32Array ||
      (data instanceof RowFile && data.dtype !== "|u1") ||
      c === 0 ||
      channels.scales.length !== c ||
      featureSize % c !== 0
    ) {
      throw new Error(`feature store: per-channel transforms need uint8 rows whose size divides by ${c}`);
    }
    return { data, featureSize, offset: 0, scale: 1, channels };
  }
  return { data, featureSize, offset: transform.offset ?? 0, scale: transform.scale ?? 1 };
}

const lutCache = new WeakMap<FeatureStore, Float32Array>();

/**
 * The 256 possible uint8 values already transformed, so gathering is one table look-up per value:
 * 256 entries, or 256 per channel (channel c at c·256) for a per-channel transform.
 */
function byteTable(store: FeatureStore): Float32Array {
  let lut = lutCache.get(store);
  if (!lut) {
    const { channels } = store;
    lut = channels
      ? Float32Array.from(
          { length: 256 * channels.offsets.length },
          (_, i) =>
            ((i % 256) + (channels.offsets[Math.floor(i / 256)] as number)) *
            (channels.scales[Math.floor(i / 256)] as number),
        )
      : Float32Array.from({ length: 256 }, (_, v) => (v + store.offset) * store.scale);
    lutCache.set(store, lut);
  }
  return lut;
}

/** Gathers store rows into a fresh float32 batch matrix (pure; exported for tests and benches). */
export function gatherRows(store: FeatureStore, storeRows: ArrayLike<number>): Float32Array {
  const { featureSize: f, offset, scale } = store;
  let data: Uint8Array | Float32Array;
  let rows: ArrayLike<number>;
  if (store.data instanceof RowFile) {
    // The batch's rows read from disk, in order, then gathered as rows 0…n−1 in memory.
    data = store.data.buffer(storeRows.length);
    store.data.read(storeRows, data);
    rows = Int32Array.from({ length: storeRows.length }, (_, i) => i);
  } else {
    data = store.data;
    rows = storeRows;
  }
  const out = new Float32Array(rows.length * f);
  if (data instanceof Uint8Array && store.channels) {
    const lut = byteTable(store);
    const c = store.channels.offsets.length;
    for (let b = 0; b < rows.length; b++) {
      const start = (rows[b] as number) * f;
      const dst = b * f;
      for (let j = 0; j < f; j++) out[dst + j] = lut[((j % c) << 8) + (data[start + j] as number)] as number;
    }
    return out;
  }
  if (data instanceof Uint8Array) {
    const lut = byteTable(store);
    for (let b = 0; b < rows.length; b++) {
      const start = (rows[b] as number) * f;
      const dst = b * f;
      for (let j = 0; j < f; j++) out[dst + j] = lut[data[start + j] as number] as number;
    }
    return out;
  }
  for (let b = 0; b < rows.length; b++) {
    const start = (rows[b] as number) * f;
    const dst = b * f;
    if (offset === 0 && scale === 1) {
      out.set(data.subarray(start, start + f), dst);
    } else {
      for (let j = 0; j < f; j++) out[dst + j] = ((data[start + j] as number) + offset) * scale;
    }
  }
  return out;
}

/** A subset as a view: positions 0..size-1 map to `rows` of a shared store. */
export class ViewSubset implements Subset {
  readonly size: number;

  constructor(
    readonly name: SubsetName,
    private readonly store: FeatureStore,
    /** Store row of each subset position. */
    private readonly rows: Int32Array,
    readonly labels: Int32Array,
    readonly sourceIndex: Int32Array,
  ) {
    if (labels.length !== rows.length || sourceIndex.length !== rows.length) {
      throw new Error(`subset ${name}: rows, labels and sourceIndex differ in length`);
    }
    this.size = rows.length;
  }

  batch(positions: ArrayLike<number>): Batch {
    const n = positions.length;
    const storeRowsOf = new Int32Array(n);
    const y = new Int32Array(n);
    const index = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const p = positions[i] as number;
      if (!Number.isInteger(p) || p < 0 || p >= this.size) {
        throw new RangeError(`subset ${this.name}: position ${p} is outside 0..${this.size - 1}`);
      }
      storeRowsOf[i] = this.rows[p] as number;
      y[i] = this.labels[p] as number;
      index[i] = p;
    }
    return { x: gatherRows(this.store, storeRowsOf), y, index };
  }
}

/** Builds a subset from source rows of a store whose store row = source index. */
export function subsetOfRows(
  name: SubsetName,
  store: FeatureStore,
  rows: Int32Array,
  labelOfRow: Int32Array,
): ViewSubset {
  const labels = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) labels[i] = labelOfRow[rows[i] as number] as number;
  return new ViewSubset(name, store, rows, labels, rows.slice());
}

export interface DatasetParts {
  id: string;
  featureShape: readonly number[];
  classNames: readonly string[];
  isImage: boolean;
  imageShape?: readonly [number, number, number];
  sourceFiles?: readonly string[];
  featureNames?: readonly string[];
  subsets: Record<SubsetName, Subset>;
}

/** The one Dataset implementation: metadata plus three subsets. */
export class SplitDataset implements Dataset {
  readonly id: string;
  readonly featureShape: readonly number[];
  readonly classNames: readonly string[];
  readonly outputDim: number;
  readonly isImage: boolean;
  readonly imageShape?: readonly [number, number, number];
  readonly sourceFiles?: readonly string[];
  readonly featureNames?: readonly string[];
  private readonly subsets: Record<SubsetName, Subset>;

  constructor(parts: DatasetParts) {
    this.id = parts.id;
    this.featureShape = Object.freeze([...parts.featureShape]);
    this.classNames = Object.freeze([...parts.classNames]);
    this.outputDim = parts.classNames.length;
    this.isImage = parts.isImage;
    if (parts.imageShape) this.imageShape = parts.imageShape;
    if (parts.sourceFiles) this.sourceFiles = Object.freeze([...parts.sourceFiles]);
    if (parts.featureNames) this.featureNames = Object.freeze([...parts.featureNames]);
    this.subsets = parts.subsets;
  }

  subset(name: SubsetName): Subset {
    const s = this.subsets[name];
    if (!s) throw new Error(`dataset '${this.id}' has no subset '${name}'`);
    return s;
  }
}
