import { existsSync } from "node:fs";
import type { DatasetConfig } from "../config/schema.js";
import { ConfigError, DataError } from "../util/errors.js";
import { fileSha256, textSha256 } from "../util/fingerprint.js";
import { resolveDataPath } from "./paths.js";
import { type Batch, type Dataset, type LabelNoise, type Subset, withTrainSubset } from "./types.js";

/**
 * Review tags fed into the next run, two keys every dataset type accepts:
 *
 * - `exclude`: a tags file (src/results/review-tags.ts; e.g. `results/<experiment>/review/tags.csv`)
 *   or a list of `source_index` ids. The samples a file tags `mislabelled` or `ambiguous`, or the
 *   listed ids, are dropped from the train subset.
 * - `relabel`: a tags file; each sample tagged `relabel` trains with its `new_label` (a class name
 *   of the dataset).
 *
 * Only the train subset changes: dev and test stay as they are, so a run with the tags is compared
 * with one without on the same held-out samples (as `label_noise`, which this follows: noise is
 * drawn first, on the same samples as without tags; an excluded or relabelled sample then leaves
 * the noise record). Ids of dev and test samples are ignored; an id the dataset does not hold at
 * all is an error (tags of another dataset). Paths are relative to the working folder (or
 * `package:<path>`).
 *
 * A run records the fingerprints (`exclude_sha256`, `relabel_sha256`: the SHA-256 of the file, or
 * of the sorted ids one per line) in its config.yaml, so a run trained with other tags is a config
 * mismatch, never reused, and rebuilding a run's dataset from a tags file that changed since is an
 * error.
 */

/** Tags whose samples `exclude` drops. */
export const EXCLUDED_TAGS: readonly string[] = ["mislabelled", "ambiguous"];
/** The tag whose samples `relabel` gives their new label. */
export const RELABEL_TAG = "relabel";

/** One row of a tags file as this module needs it (src/results/review-tags.ts `ReviewTag`). */
export interface TagRow {
  readonly sourceIndex: number;
  readonly tag: string;
  readonly newLabel: string | null;
}

/** Reads a tags file: src/results/review-tags.ts `readReviewTags` (the data layer does not import it). */
export type ReadTags = (path: string) => readonly TagRow[];

type Source = { file: string } | { ids: number[] };
type ReviewKey = "exclude" | "relabel";

function show(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : JSON.stringify(value);
}

/** The `exclude` or `relabel` of a dataset config, checked; null without one. */
function sourceOf(config: DatasetConfig, key: ReviewKey): Source | null {
  const raw = (config as Record<string, unknown>)[key];
  if (raw === undefined || raw === null) return null;
  if (typeof raw === "string" && raw.length > 0) return { file: raw };
  if (key === "exclude" && Array.isArray(raw)) {
    if (raw.length === 0) {
      throw new ConfigError("dataset.exclude", "an empty list excludes nothing: leave the key out (or null)");
    }
    const bad = raw.find((v) => typeof v !== "number" || !Number.isSafeInteger(v) || v < 0);
    if (bad !== undefined) {
      throw new ConfigError(
        "dataset.exclude",
        `expected source_index ids (non-negative integers), got ${show(bad)}`,
      );
    }
    return { ids: [...new Set(raw as number[])].sort((a, b) => a - b) };
  }
  throw new ConfigError(
    `dataset.${key}`,
    key === "exclude"
      ? `expected the path of a review tags file or a list of source_index ids, got ${show(raw)}`
      : `expected the path of a review tags file, got ${show(raw)}`,
  );
}

/** The fingerprint of a source: the file's SHA-256, or that of the sorted ids one per line. */
function fingerprintOf(key: ReviewKey, source: Source, cwd: string): { sha256: string; what: string } {
  if ("ids" in source) return { sha256: textSha256(`${source.ids.join("\n")}\n`), what: "the id list" };
  const path = resolveDataPath(source.file, cwd);
  if (!existsSync(path)) {
    throw new ConfigError(
      `dataset.${key}`,
      `no such file: ${path} (a review tags file was expected, such as <results_dir>/<experiment_id>/review/tags.csv)`,
    );
  }
  return { sha256: fileSha256(path), what: path };
}

/** The fingerprint of `key`'s source, checked against the one the config names (a run's config.yaml). */
function checkedFingerprint(config: DatasetConfig, key: ReviewKey, source: Source, cwd: string): string {
  const { sha256, what } = fingerprintOf(key, source, cwd);
  const pinned = (config as Record<string, unknown>)[`${key}_sha256`];
  if (pinned !== undefined && pinned !== sha256) {
    throw new ConfigError(
      `dataset.${key}_sha256`,
      `${what} has sha256 ${sha256}, the config says ${String(pinned)}: the review tags changed since the run was configured`,
    );
  }
  return sha256;
}

/**
 * `config` with the fingerprints of its `exclude` and `relabel` (`exclude_sha256`,
 * `relabel_sha256`) filled in and an id list sorted without repeats; unchanged without either key.
 * A fingerprint the config already names (a run's config.yaml) must match. Errors name the key: a
 * value of the wrong kind, a file that does not exist, a fingerprint that does not match.
 */
export function withReviewFingerprints(config: DatasetConfig, cwd: string = process.cwd()): DatasetConfig {
  let out: Record<string, unknown> = config;
  for (const key of ["exclude", "relabel"] as const) {
    const raw = (config as Record<string, unknown>)[key];
    if (raw === null) {
      const { [key]: _dropped, ...rest } = out;
      out = rest;
      continue;
    }
    const source = sourceOf(config, key);
    if (!source) {
      if ((config as Record<string, unknown>)[`${key}_sha256`] !== undefined) {
        throw new ConfigError(`dataset.${key}_sha256`, `only with dataset.${key}`);
      }
      continue;
    }
    const sha256 = checkedFingerprint(config, key, source, cwd);
    out = { ...out, ...("ids" in source ? { [key]: source.ids } : {}), [`${key}_sha256`]: sha256 };
  }
  return out as DatasetConfig;
}

/** What a config's review tags do to the train subset: ids to drop and new labels by source_index. */
export interface ReviewEdits {
  readonly exclude: ReadonlySet<number>;
  readonly relabel: ReadonlyMap<number, string>;
  /** Where each came from, for messages (a file path or "the list"). */
  readonly from: { readonly exclude?: string; readonly relabel?: string };
}

/** The tags of a file source, read with `readTags` (an error when there is none to read them). */
function tagsOf(key: ReviewKey, path: string, readTags: ReadTags | undefined): readonly TagRow[] {
  if (!readTags) {
    throw new ConfigError(
      `dataset.${key}`,
      `${path}: no reader of review tags was given to createDataset (pass readReviewTags of src/results/review-tags.ts; the package's createDataset does)`,
    );
  }
  return readTags(path);
}

/**
 * Reads the review tags a dataset config names (before any data is loaded): the ids `exclude` drops
 * and the labels `relabel` gives. A fingerprint the config names must match its source (a run's
 * dataset rebuilt from tags that changed since it trained is refused). Null without either key.
 */
export function reviewEditsOf(
  config: DatasetConfig,
  readTags: ReadTags | undefined,
  cwd: string = process.cwd(),
): ReviewEdits | null {
  const exclude = sourceOf(config, "exclude");
  const relabel = sourceOf(config, "relabel");
  if (!exclude && !relabel) return null;
  const excluded = new Set<number>();
  const labels = new Map<number, string>();
  const from: { exclude?: string; relabel?: string } = {};
  if (exclude) {
    checkedFingerprint(config, "exclude", exclude, cwd);
    if ("ids" in exclude) {
      for (const id of exclude.ids) excluded.add(id);
      from.exclude = "the list";
    } else {
      const path = resolveDataPath(exclude.file, cwd);
      for (const t of tagsOf("exclude", path, readTags))
        if (EXCLUDED_TAGS.includes(t.tag)) excluded.add(t.sourceIndex);
      from.exclude = path;
    }
  }
  if (relabel && "file" in relabel) {
    checkedFingerprint(config, "relabel", relabel, cwd);
    const path = resolveDataPath(relabel.file, cwd);
    for (const t of tagsOf("relabel", path, readTags)) {
      if (t.tag === RELABEL_TAG && t.newLabel !== null) labels.set(t.sourceIndex, t.newLabel);
    }
    from.relabel = path;
  }
  return { exclude: excluded, relabel: labels, from };
}

/** At most a few items of a list, then how many more. */
function few(values: readonly number[]): string {
  const shown = values.slice(0, 5).join(", ");
  return values.length > 5 ? `${shown} and ${values.length - 5} more` : shown;
}

/** Every id of `ids` is a sample of the dataset (in one of its subsets), else an error naming them. */
function checkKnown(dataset: Dataset, key: ReviewKey, ids: Iterable<number>, from: string | undefined): void {
  const known = new Set<number>();
  for (const name of ["train", "dev", "test"] as const)
    for (const s of dataset.subset(name).sourceIndex) known.add(s);
  const unknown = [...ids].filter((id) => !known.has(id)).sort((a, b) => a - b);
  if (unknown.length > 0) {
    throw new ConfigError(
      `dataset.${key}`,
      `${from ?? ""}${from ? ": " : ""}source_index ${few(unknown)} ${unknown.length === 1 ? "is" : "are"} no sample of dataset '${dataset.id}' (its train, dev and test subsets hold ${known.size} samples): review tags of another dataset?`,
    );
  }
}

/** The label noise record of the kept train samples, at their new positions (excluded and relabelled ones leave it). */
function keptNoise(noise: LabelNoise, newPosition: Int32Array, relabelled: ReadonlySet<number>): LabelNoise {
  const keep: number[] = [];
  noise.positions.forEach((p, i) => {
    if ((newPosition[p] as number) >= 0 && !relabelled.has(p)) keep.push(i);
  });
  return {
    config: noise.config,
    positions: Int32Array.from(keep, (i) => newPosition[noise.positions[i] as number] as number),
    original: Int32Array.from(keep, (i) => noise.original[i] as number),
    noisy: Int32Array.from(keep, (i) => noise.noisy[i] as number),
  };
}

/**
 * The dataset with review edits applied to its train subset: the excluded samples dropped (the
 * others keep their order), the relabelled ones carrying their new label in `labels` and every
 * batch's `y`. Dev and test are the dataset's own. The dataset itself when `edits` is null.
 */
export function withReviewEdits(dataset: Dataset, edits: ReviewEdits | null): Dataset {
  if (!edits) return dataset;
  checkKnown(dataset, "exclude", edits.exclude, edits.from.exclude);
  checkKnown(dataset, "relabel", edits.relabel.keys(), edits.from.relabel);
  const codes = new Map<number, number>();
  for (const [id, label] of edits.relabel) {
    const code = dataset.classNames.indexOf(label);
    if (code < 0) {
      throw new ConfigError(
        "dataset.relabel",
        `${edits.from.relabel}: source_index ${id} is relabelled ${show(label)}, which is no class of dataset '${dataset.id}' (its classes: ${dataset.classNames.join(", ")})`,
      );
    }
    codes.set(id, code);
  }
  const base = dataset.subset("train");
  const kept: number[] = [];
  const excluded: number[] = [];
  for (let p = 0; p < base.size; p++) {
    const id = base.sourceIndex[p] as number;
    if (edits.exclude.has(id)) excluded.push(id);
    else kept.push(p);
  }
  if (kept.length === 0) {
    throw new DataError(
      `dataset '${dataset.id}': dataset.exclude (${edits.from.exclude}) drops every one of the ${base.size} train samples`,
    );
  }
  const positions = Int32Array.from(kept);
  const newPosition = new Int32Array(base.size).fill(-1);
  positions.forEach((p, i) => {
    newPosition[p] = i;
  });
  const labels = Int32Array.from(positions, (p) => base.labels[p] as number);
  const sourceIndex = Int32Array.from(positions, (p) => base.sourceIndex[p] as number);
  const relabelled: number[] = [];
  const relabelledBase = new Set<number>();
  sourceIndex.forEach((id, i) => {
    const code = codes.get(id);
    if (code === undefined) return;
    labels[i] = code;
    relabelled.push(id);
    relabelledBase.add(positions[i] as number);
  });
  const train: Subset = {
    name: base.name,
    size: positions.length,
    labels,
    sourceIndex,
    batch(at: ArrayLike<number>): Batch {
      const mapped = new Int32Array(at.length);
      const y = new Int32Array(at.length);
      for (let i = 0; i < at.length; i++) {
        const q = at[i] as number;
        if (!Number.isInteger(q) || q < 0 || q >= positions.length) {
          throw new RangeError(`subset train: position ${q} is outside 0..${positions.length - 1}`);
        }
        mapped[i] = positions[q] as number;
        y[i] = labels[q] as number;
      }
      return { x: base.batch(mapped).x, y, index: Int32Array.from(at) };
    },
  };
  const noise = dataset.labelNoise ? keptNoise(dataset.labelNoise, newPosition, relabelledBase) : undefined;
  return withTrainSubset(dataset, train, {
    ...(noise ? { labelNoise: noise } : {}),
    review: {
      excluded: Int32Array.from(excluded).sort(),
      relabelled: Int32Array.from(relabelled).sort(),
    },
  });
}
