import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import type { OutputSubset } from "../config/layout.js";
import type { ImportFormat } from "../config/schema.js";
import { readCsv } from "../util/csv.js";
import { DataError } from "../util/errors.js";
import { loadNpy, saveNpy } from "../util/npy.js";

/**
 * The outputs another training loop recorded, as `curricula import` reads them: one reader per
 * format, all into the same {@link Recording}. The formats (docs/import.md):
 *
 * - `npy`: a folder with `train/` (and optional `dev/`, `test/`), each holding `targets.npy` (int,
 *   `[N]`), optional `ids.npy` (the dataset's `source_index` of each row) and `epoch_<k>.npy`
 *   (float logits `[N, C]`, k = 1 … T);
 * - `cartography`: Dataset Cartography's `training_dynamics/dynamics_epoch_<k>.jsonl` (one JSON
 *   object per line: `guid`, `logits_epoch_<k>`, `gold`), train rows only;
 * - `csv`: one long table `subset, epoch, id, target, logit_0 … logit_{C-1}`.
 *
 * Every problem of a file (a missing epoch, a row count that differs from the targets, a non-finite
 * logit, an id given twice) is a DataError naming the file.
 */

/** One subset's recorded rows: the same rows, in the same order, at every epoch. */
export interface RecordedSubset {
  /** The dataset's `source_index` of each row; null: the rows are in subset order (positions 0 … N−1). */
  ids: Int32Array | null;
  targets: Int32Array;
  numClasses: number;
  /** N × C logits, row-major, one per epoch 1 … T. */
  epochs: Float32Array[];
  /** Where the rows came from (a file or folder), for messages. */
  source: string;
  /** The file of each epoch (for messages); the same file for every epoch of a CSV. */
  epochSources: string[];
}

export interface Recording {
  format: ImportFormat;
  /** The folder or file read. */
  source: string;
  subsets: Partial<Record<OutputSubset, RecordedSubset>>;
  /** Every file read (their fingerprints are the imported run's provenance). */
  files: string[];
}

const SUBSETS: readonly OutputSubset[] = ["train", "dev", "test"];

/** Reads a recording in one of the formats. */
export function readRecording(path: string, format: ImportFormat): Recording {
  if (!existsSync(path)) throw new DataError(`${path}: not found (expected a recorded ${format} run)`);
  const recording =
    format === "npy"
      ? readNpyRecording(path)
      : format === "cartography"
        ? readCartography(path)
        : readCsvRecording(path);
  const train = recording.subsets.train;
  if (!train) throw new DataError(`${path}: no train rows recorded (the train subset is required)`);
  for (const name of SUBSETS) {
    const subset = recording.subsets[name];
    if (!subset) continue;
    if (subset.epochs.length !== train.epochs.length) {
      throw new DataError(
        `${subset.source}: ${name} has ${subset.epochs.length} epochs but train has ${train.epochs.length}: ` +
          "every subset must be recorded at the same epochs 1 … T",
      );
    }
    if (subset.numClasses !== train.numClasses) {
      throw new DataError(
        `${subset.source}: ${name} logits have ${subset.numClasses} classes but train's have ${train.numClasses}`,
      );
    }
    subset.epochs.forEach((logits, e) => {
      checkFinite(logits, subset.numClasses, subset.epochSources[e] ?? subset.source, e + 1);
    });
  }
  return recording;
}

function checkFinite(logits: Float32Array, c: number, source: string, epoch: number): void {
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i] as number;
    if (!Number.isFinite(v)) {
      throw new DataError(
        `${source}: epoch ${epoch}, row ${Math.floor(i / c)}, logit ${i % c} is ${v} (expected finite logits; ` +
          "a diverged run cannot be scored)",
      );
    }
  }
}

/** The epochs 1 … T of numbered names (`epoch_<k>.npy`); a gap or a missing first epoch is an error naming the missing file. */
function contiguousEpochs(
  dir: string,
  pattern: RegExp,
  name: (k: number) => string,
  first: number,
): number[] {
  const found = readdirSync(dir)
    .map((f) => pattern.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  if (found.length === 0) throw new DataError(`${join(dir, name(first))}: missing (no epoch recorded)`);
  const last = found[found.length - 1] as number;
  for (let k = first; k <= last; k++) {
    if (!found.includes(k)) {
      throw new DataError(
        `${join(dir, name(k))}: missing (epochs must run ${first} … ${last} without a gap)`,
      );
    }
  }
  return found.filter((k) => k >= first);
}

function intArray(path: string, what: string): Int32Array {
  const npy = loadNpy(path);
  if (!(npy.data instanceof Int32Array) || npy.shape.length !== 1) {
    throw new DataError(
      `${path}: expected a 1-D integer array of ${what}, got shape [${npy.shape}] of another dtype or rank`,
    );
  }
  return npy.data;
}

function readNpyRecording(root: string): Recording {
  if (!statSync(root).isDirectory())
    throw new DataError(`${root}: expected a folder with train/ (npy format)`);
  const subsets: Partial<Record<OutputSubset, RecordedSubset>> = {};
  const files: string[] = [];
  for (const name of SUBSETS) {
    const dir = join(root, name);
    if (!existsSync(dir)) continue;
    const targetsPath = join(dir, "targets.npy");
    if (!existsSync(targetsPath))
      throw new DataError(`${targetsPath}: missing (every subset folder needs its targets)`);
    const targets = intArray(targetsPath, "targets");
    files.push(targetsPath);
    const idsPath = join(dir, "ids.npy");
    let ids: Int32Array | null = null;
    if (existsSync(idsPath)) {
      ids = intArray(idsPath, "ids");
      files.push(idsPath);
      if (ids.length !== targets.length) {
        throw new DataError(`${idsPath}: ${ids.length} ids but targets.npy has ${targets.length} rows`);
      }
    }
    const epochs: Float32Array[] = [];
    const epochSources: string[] = [];
    let numClasses = 0;
    for (const k of contiguousEpochs(dir, /^epoch_(\d+)\.npy$/, (e) => `epoch_${e}.npy`, 1)) {
      const path = join(dir, `epoch_${k}.npy`);
      const npy = loadNpy(path);
      if (npy.shape.length !== 2 || !(npy.data instanceof Float32Array || npy.data instanceof Float64Array)) {
        throw new DataError(`${path}: expected float logits of shape [N, C], got shape [${npy.shape}]`);
      }
      const [rows, c] = npy.shape as [number, number];
      if (rows !== targets.length) {
        throw new DataError(
          `${path}: ${rows} rows but ${targetsPath} has ${targets.length} (one row per sample)`,
        );
      }
      if (numClasses !== 0 && c !== numClasses) {
        throw new DataError(`${path}: ${c} classes but the earlier epochs have ${numClasses}`);
      }
      numClasses = c;
      epochs.push(npy.data instanceof Float32Array ? npy.data : Float32Array.from(npy.data));
      epochSources.push(path);
      files.push(path);
    }
    subsets[name] = { ids, targets, numClasses, epochs, source: dir, epochSources };
  }
  return { format: "npy", source: root, subsets, files };
}

/** Parses an id (an integer or a string of one) of a row; `where` names the file and line. */
function parseId(value: unknown, where: string, key: string): number {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^-?\d+$/.test(value.trim())
        ? Number(value)
        : Number.NaN;
  if (!Number.isInteger(n)) {
    throw new DataError(
      `${where}: ${key}: expected an integer (the dataset's source_index), got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Rows of one epoch keyed by id, aligned to the first epoch's order. */
class Aligner {
  ids: number[] | null = null;
  targets: number[] = [];
  private readonly order = new Map<number, number>();

  constructor(private readonly c: () => number) {}

  /** Puts one epoch's rows (ids, targets, logits by row) into the first epoch's row order. */
  align(
    source: string,
    epoch: number,
    rows: { id: number; target: number; logits: ArrayLike<number>; where: string }[],
  ): Float32Array {
    const c = this.c();
    if (this.ids === null) {
      this.ids = [];
      for (const row of rows) {
        if (this.order.has(row.id))
          throw new DataError(`${row.where}: id ${row.id} appears twice in epoch ${epoch}`);
        this.order.set(row.id, this.ids.length);
        this.ids.push(row.id);
        this.targets.push(row.target);
      }
    } else if (rows.length !== this.ids.length) {
      throw new DataError(
        `${source}: epoch ${epoch} has ${rows.length} rows but the first epoch has ${this.ids.length}`,
      );
    }
    const out = new Float32Array(this.ids.length * c);
    const seen = new Uint8Array(this.ids.length);
    for (const row of rows) {
      const r = this.order.get(row.id);
      if (r === undefined)
        throw new DataError(`${row.where}: id ${row.id} is not among the first epoch's rows`);
      if (seen[r]) throw new DataError(`${row.where}: id ${row.id} appears twice in epoch ${epoch}`);
      seen[r] = 1;
      if (this.targets[r] !== row.target) {
        throw new DataError(
          `${row.where}: id ${row.id} has target ${row.target} but ${this.targets[r]} in the first epoch`,
        );
      }
      if (row.logits.length !== c) {
        throw new DataError(`${row.where}: ${row.logits.length} logits, expected ${c} (one per class)`);
      }
      for (let k = 0; k < c; k++) out[r * c + k] = row.logits[k] as number;
    }
    return out;
  }
}

/**
 * Dataset Cartography's training dynamics: `<path>/training_dynamics/dynamics_epoch_<k>.jsonl` (or
 * `<path>` itself holding them); epochs are numbered from 0 (as the original writes them) or 1.
 */
function readCartography(path: string): Recording {
  const dir = existsSync(join(path, "training_dynamics")) ? join(path, "training_dynamics") : path;
  if (!statSync(dir).isDirectory())
    throw new DataError(`${path}: expected a folder with training_dynamics/ (cartography format)`);
  const pattern = /^dynamics_epoch_(\d+)\.jsonl$/;
  const numbers = readdirSync(dir)
    .map((f) => pattern.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  const first = numbers.includes(0) ? 0 : 1;
  const epochNumbers = contiguousEpochs(dir, pattern, (k) => `dynamics_epoch_${k}.jsonl`, first);
  let numClasses = 0;
  const aligner = new Aligner(() => numClasses);
  const epochs: Float32Array[] = [];
  const epochSources: string[] = [];
  for (const k of epochNumbers) {
    const file = join(dir, `dynamics_epoch_${k}.jsonl`);
    const key = `logits_epoch_${k}`;
    const rows = readFileSync(file, "utf8")
      .split("\n")
      .map((line, i) => ({ line, where: `${file}:${i + 1}` }))
      .filter(({ line }) => line.trim() !== "")
      .map(({ line, where }) => {
        let doc: Record<string, unknown>;
        try {
          doc = JSON.parse(line) as Record<string, unknown>;
        } catch (error) {
          throw new DataError(`${where}: not a JSON object (${(error as Error).message})`);
        }
        const logits = doc[key];
        if (!Array.isArray(logits) || !logits.every((v) => typeof v === "number" || v === null)) {
          throw new DataError(`${where}: ${key}: expected a list of numbers`);
        }
        if (numClasses === 0) numClasses = logits.length;
        return {
          id: parseId(doc.guid, where, "guid"),
          target: parseId(doc.gold, where, "gold"),
          logits: logits.map((v) => (v === null ? Number.NaN : (v as number))),
          where,
        };
      });
    epochs.push(aligner.align(file, epochs.length + 1, rows));
    epochSources.push(file);
  }
  const train: RecordedSubset = {
    ids: Int32Array.from(aligner.ids ?? []),
    targets: Int32Array.from(aligner.targets),
    numClasses,
    epochs,
    source: dir,
    epochSources,
  };
  return { format: "cartography", source: path, subsets: { train }, files: epochSources };
}

/** One long CSV: `subset, epoch, id, target, logit_0 … logit_{C-1}`. */
function readCsvRecording(path: string): Recording {
  if (statSync(path).isDirectory()) throw new DataError(`${path}: expected a CSV file (csv format)`);
  const { columns, rows } = readCsv(path);
  for (const column of ["subset", "epoch", "id", "target", "logit_0"]) {
    if (!columns.includes(column)) throw new DataError(`${path}: missing column "${column}"`);
  }
  const logitColumns = columns.filter((c) => /^logit_\d+$/.test(c));
  const c = logitColumns.length;
  for (let k = 0; k < c; k++) {
    if (!columns.includes(`logit_${k}`))
      throw new DataError(`${path}: missing column "logit_${k}" (logit_0 … logit_${c - 1})`);
  }
  const bySubset = new Map<
    OutputSubset,
    Map<number, { id: number; target: number; logits: number[]; where: string }[]>
  >();
  rows.forEach((row, r) => {
    const where = `${path}: row ${r + 2}`;
    const subset = row.subset as OutputSubset;
    if (!SUBSETS.includes(subset)) {
      throw new DataError(`${where}: subset: expected train, dev or test, got ${JSON.stringify(row.subset)}`);
    }
    const epoch = parseId(row.epoch, where, "epoch");
    const logits = logitColumns.map((_, k) => {
      const text = row[`logit_${k}`] ?? "";
      return text.trim() === "" ? Number.NaN : Number(text);
    });
    const epochs = bySubset.get(subset) ?? new Map();
    bySubset.set(subset, epochs);
    const list = epochs.get(epoch) ?? [];
    epochs.set(epoch, list);
    list.push({
      id: parseId(row.id, where, "id"),
      target: parseId(row.target, where, "target"),
      logits,
      where,
    });
  });
  const subsets: Partial<Record<OutputSubset, RecordedSubset>> = {};
  for (const [name, byEpoch] of bySubset) {
    const numbers = [...byEpoch.keys()].sort((a, b) => a - b);
    const last = numbers[numbers.length - 1] as number;
    for (let k = 1; k <= last; k++) {
      if (!byEpoch.has(k)) {
        throw new DataError(
          `${path}: ${name} epoch ${k}: missing (epochs must run 1 … ${last} without a gap)`,
        );
      }
    }
    if ((numbers[0] as number) < 1)
      throw new DataError(`${path}: ${name} epoch ${numbers[0]}: epochs are numbered from 1`);
    const aligner = new Aligner(() => c);
    const epochs = numbers.map((k) => aligner.align(`${path} (${name})`, k, byEpoch.get(k) ?? []));
    subsets[name] = {
      ids: Int32Array.from(aligner.ids ?? []),
      targets: Int32Array.from(aligner.targets),
      numClasses: c,
      epochs,
      source: `${path} (${name})`,
      epochSources: epochs.map(() => `${path} (${name})`),
    };
  }
  return { format: "csv", source: path, subsets, files: [path] };
}

/** The label of a file of a recording in its provenance: its path relative to the recording (its name for one file). */
export function recordedFileLabel(recording: Recording, file: string): string {
  return file === recording.source ? basename(file) : relative(recording.source, file);
}

/**
 * Writes a dataset's split as the `npy` format's row identities: `<dir>/<subset>/ids.npy` (the
 * `source_index` of each position, in subset order) and `targets.npy` (its label), for a training
 * loop elsewhere to train and record on the same split.
 */
export function writeSplitIds(
  dir: string,
  subsets: Partial<Record<OutputSubset, { sourceIndex: Int32Array; labels: Int32Array }>>,
): string[] {
  const written: string[] = [];
  for (const name of SUBSETS) {
    const subset = subsets[name];
    if (!subset) continue;
    const ids = join(dir, name, "ids.npy");
    const targets = join(dir, name, "targets.npy");
    saveNpy(ids, Int32Array.from(subset.sourceIndex), [subset.sourceIndex.length]);
    saveNpy(targets, Int32Array.from(subset.labels), [subset.labels.length]);
    written.push(ids, targets);
  }
  return written;
}
