import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRunDataset } from "../../src/assembly/review.js";
import { DatasetConfigSchema } from "../../src/config/schema.js";
import { checkDatasetConfig, createDataset } from "../../src/data/index.js";
import { withReviewFingerprints } from "../../src/data/review-edits.js";
import type { Dataset, Subset } from "../../src/data/types.js";
import { type ReviewTag, writeReviewTags } from "../../src/results/review-tags.js";
import { ConfigError, DataError } from "../../src/util/errors.js";
import { fileSha256, textSha256 } from "../../src/util/fingerprint.js";
import { datasetConfig } from "./dataset-config.js";

const T = "2026-12-07T12:00:00Z";
const digits = (extra: Record<string, unknown> = {}) =>
  datasetConfig("Digits", { shape: "flat", dev_split: 0.2, test_split: 0.2, ...extra });

function tagsFile(tags: ReviewTag[]): string {
  const path = join(mkdtempSync(join(tmpdir(), "curricula-review-edits-")), "review", "tags.csv");
  writeReviewTags(path, tags);
  return path;
}

const tag = (sourceIndex: number, kind: ReviewTag["tag"], newLabel: string | null = null): ReviewTag => ({
  sourceIndex,
  tag: kind,
  newLabel,
  time: T,
});

/** Source index → [label, features] of every sample of a subset. */
function samples(subset: Subset): Map<number, [number, number[]]> {
  const positions = Int32Array.from({ length: subset.size }, (_, i) => i);
  const batch = subset.batch(positions);
  const f = batch.x.length / subset.size;
  return new Map(
    Array.from(subset.sourceIndex, (s, i) => [
      s,
      [batch.y[i] as number, Array.from(batch.x.subarray(i * f, (i + 1) * f))] as [number, number[]],
    ]),
  );
}

const clean = await createDataset(digits());
const train = clean.subset("train");
const at = (p: number) => train.sourceIndex[p] as number;
const devId = clean.subset("dev").sourceIndex[0] as number;

function expectSameHeldOut(a: Dataset, b: Dataset): void {
  for (const name of ["dev", "test"] as const) {
    expect(Array.from(a.subset(name).sourceIndex)).toEqual(Array.from(b.subset(name).sourceIndex));
    expect(Array.from(a.subset(name).labels)).toEqual(Array.from(b.subset(name).labels));
  }
}

describe("dataset.exclude", () => {
  it("a list of ids drops exactly those train samples; the others keep order, labels and features", async () => {
    const ids = [at(5), at(0), at(200), devId];
    const edited = await createDataset(digits({ exclude: ids }));
    const t = edited.subset("train");
    const kept = Array.from(train.sourceIndex).filter((s) => ![at(0), at(5), at(200)].includes(s));
    expect(Array.from(t.sourceIndex)).toEqual(kept);
    expect(t.size).toBe(train.size - 3);
    const before = samples(train);
    const after = samples(t);
    expect([...after.entries()]).toEqual([...before.entries()].filter(([s]) => kept.includes(s)));
    expect(Array.from(t.labels)).toEqual(kept.map((s) => before.get(s)?.[0]));
    // batches report positions of the edited subset
    expect(Array.from(t.batch([3, 1]).index)).toEqual([3, 1]);
    expect(() => t.batch([t.size])).toThrow(RangeError);
    // the dev sample in the list is ignored: dev and test stay as they were
    expectSameHeldOut(edited, clean);
    expect(Array.from(edited.review?.excluded ?? [])).toEqual([at(0), at(5), at(200)].sort((a, b) => a - b));
  });

  it("a tags file drops the samples tagged mislabelled or ambiguous, not fine or relabel ones", async () => {
    const path = tagsFile([
      tag(at(1), "mislabelled"),
      tag(at(2), "ambiguous"),
      tag(at(3), "relabel", "4"),
      tag(at(4), "mislabelled"),
      tag(at(4), "fine"),
      tag(devId, "mislabelled"),
    ]);
    const edited = await createRunDataset(digits({ exclude: path }));
    expect(Array.from(edited.subset("train").sourceIndex)).toEqual(
      Array.from(train.sourceIndex).filter((s) => s !== at(1) && s !== at(2)),
    );
    expectSameHeldOut(edited, clean);
  });

  it("refuses ids the dataset does not hold, an empty list, and a list of non-ids", async () => {
    await expect(createDataset(digits({ exclude: [at(0), 5000, 7000] }))).rejects.toThrow(
      /dataset\.exclude: the list: source_index 5000, 7000 are no sample of dataset 'Digits' \(its train, dev and test subsets hold 1797 samples\)/,
    );
    await expect(createDataset(digits({ exclude: [] }))).rejects.toThrow(/dataset\.exclude: an empty list/);
    await expect(createDataset(digits({ exclude: [1, -2] }))).rejects.toThrow(
      /dataset\.exclude: expected source_index ids \(non-negative integers\), got -2/,
    );
    await expect(createDataset(digits({ exclude: 3 }))).rejects.toThrow(
      /dataset\.exclude: expected the path of a review tags file or a list of source_index ids, got 3/,
    );
  });

  it("refuses to drop every train sample", async () => {
    await expect(createDataset(digits({ exclude: Array.from(train.sourceIndex) }))).rejects.toThrow(
      DataError,
    );
  });

  it("a missing tags file names the key and the path", async () => {
    const error = await createRunDataset(digits({ exclude: "nowhere/tags.csv" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/dataset\.exclude: no such file: .*nowhere\/tags\.csv/);
  });

  it("the data layer alone cannot read a tags file: it says where the reader is", async () => {
    const path = tagsFile([tag(at(1), "mislabelled")]);
    await expect(createDataset(digits({ exclude: path }))).rejects.toThrow(/no reader of review tags/);
  });
});

describe("dataset.relabel", () => {
  it("gives the samples tagged relabel their new label in labels and batches; features stay", async () => {
    const path = tagsFile([
      tag(at(0), "relabel", "9"),
      tag(at(7), "relabel", "0"),
      tag(at(8), "mislabelled"),
      tag(devId, "relabel", "3"),
    ]);
    const edited = await createRunDataset(digits({ relabel: path }));
    const t = edited.subset("train");
    expect(Array.from(t.sourceIndex)).toEqual(Array.from(train.sourceIndex));
    const expected = Array.from(train.labels);
    expected[0] = clean.classNames.indexOf("9");
    expected[7] = clean.classNames.indexOf("0");
    expect(Array.from(t.labels)).toEqual(expected);
    const before = samples(train);
    const after = samples(t);
    expect(after.get(at(0))).toEqual([clean.classNames.indexOf("9"), before.get(at(0))?.[1]]);
    expect(after.get(at(1))).toEqual(before.get(at(1)));
    expectSameHeldOut(edited, clean);
    expect(Array.from(edited.review?.relabelled ?? [])).toEqual([at(0), at(7)].sort((a, b) => a - b));
  });

  it("refuses a label that is no class of the dataset, naming the file, the sample and the classes", async () => {
    const path = tagsFile([tag(at(3), "relabel", "eleven")]);
    const error = await createRunDataset(digits({ relabel: path })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `dataset.relabel: ${path}: source_index ${at(3)} is relabelled 'eleven', which is no class of dataset 'Digits' (its classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)`,
    );
  });

  it("with exclude on the same sample, the sample is dropped", async () => {
    const path = tagsFile([tag(at(0), "relabel", "9")]);
    const edited = await createRunDataset(digits({ relabel: path, exclude: [at(0)] }));
    expect(Array.from(edited.subset("train").sourceIndex)).not.toContain(at(0));
    expect(edited.review?.relabelled.length).toBe(0);
  });
});

describe("review tags and label noise", () => {
  it("noise falls on the same samples as without tags; excluded and relabelled ones leave its record", async () => {
    const noise = { rate: 0.2, kind: "symmetric", seed: 3 };
    const noisy = await createDataset(digits({ label_noise: noise }));
    const n = noisy.labelNoise;
    if (!n) throw new Error("no noise");
    const noisyIds = Array.from(n.positions, (p) => noisy.subset("train").sourceIndex[p] as number);
    const dropped = noisyIds.slice(0, 3);
    const relabelled = noisyIds[3] as number;
    const path = tagsFile([tag(relabelled, "relabel", "5")]);
    const edited = await createRunDataset(digits({ label_noise: noise, exclude: dropped, relabel: path }));
    const t = edited.subset("train");
    const e = edited.labelNoise;
    if (!e) throw new Error("no noise");
    // the record, by source index: the noisy samples but the three excluded and the relabelled one
    const record = Array.from(e.positions, (p, i) => [t.sourceIndex[p], e.original[i], e.noisy[i]]);
    const expected = Array.from(n.positions, (_p, i) => [noisyIds[i], n.original[i], n.noisy[i]]).filter(
      ([s]) => !dropped.includes(s as number) && s !== relabelled,
    );
    expect(record).toEqual(expected);
    // every kept sample trains with the label it had under noise alone, the relabelled one with 5
    const labelOf = new Map(
      Array.from(noisy.subset("train").sourceIndex, (s, i) => [s, noisy.subset("train").labels[i]]),
    );
    expect(Array.from(t.labels)).toEqual(
      Array.from(t.sourceIndex, (s) => (s === relabelled ? edited.classNames.indexOf("5") : labelOf.get(s))),
    );
  });
});

describe("withReviewFingerprints", () => {
  it("records the file's sha256, and of a list the sha256 of its sorted ids one per line", () => {
    const path = tagsFile([tag(1, "mislabelled")]);
    const out = withReviewFingerprints(digits({ exclude: [9, 2, 9, 4], relabel: path }));
    expect(out.exclude).toEqual([2, 4, 9]);
    expect(out.exclude_sha256).toBe(textSha256("2\n4\n9\n"));
    expect(out.relabel_sha256).toBe(fileSha256(path));
    expect(DatasetConfigSchema.parse(out)).toEqual(out);
  });

  it("leaves a config without tags as it is and drops a null key", () => {
    const config = digits();
    expect(withReviewFingerprints(config)).toBe(config);
    expect(withReviewFingerprints(digits({ exclude: null }))).toEqual(digits());
  });

  it("refuses a fingerprint that no longer matches the file, and one without its key", () => {
    const path = tagsFile([tag(1, "mislabelled")]);
    const pinned = withReviewFingerprints(digits({ exclude: path }));
    expect(withReviewFingerprints(pinned)).toEqual(pinned);
    writeReviewTags(path, [tag(2, "mislabelled")]);
    expect(() => withReviewFingerprints(pinned)).toThrow(
      /dataset\.exclude_sha256: .*tags\.csv has sha256 [0-9a-f]{64}, the config says [0-9a-f]{64}: the review tags changed since the run was configured/,
    );
    expect(() => withReviewFingerprints(digits({ relabel_sha256: "0".repeat(64) }))).toThrow(
      /dataset\.relabel_sha256: only with dataset\.relabel/,
    );
  });

  it("rebuilding a dataset whose config names an old fingerprint is refused", async () => {
    const path = tagsFile([tag(at(1), "mislabelled")]);
    const pinned = withReviewFingerprints(digits({ exclude: path }));
    writeReviewTags(path, [tag(at(2), "mislabelled")]);
    await expect(createRunDataset(pinned)).rejects.toThrow(/dataset\.exclude_sha256: .*changed since/);
  });
});

describe("checkDatasetConfig", () => {
  it("accepts exclude and relabel on every dataset type and checks them without loading data", () => {
    const path = tagsFile([tag(1, "mislabelled")]);
    expect(() => checkDatasetConfig(digits({ exclude: path, relabel: path }))).not.toThrow();
    expect(() =>
      checkDatasetConfig(datasetConfig("MNIST", { exclude: [1, 2], relabel: path })),
    ).not.toThrow();
    expect(() => checkDatasetConfig(digits({ relabel: [1, 2] }))).toThrow(
      /dataset\.relabel: expected the path of a review tags file, got \[1,2\]/,
    );
    expect(() => checkDatasetConfig(digits({ exclude: "missing.csv" }))).toThrow(
      /dataset\.exclude: no such file/,
    );
  });
});
