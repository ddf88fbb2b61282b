import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  addReviewTag,
  type ReviewTag,
  readReviewTags,
  reviewTagsPath,
  writeReviewTags,
} from "../../src/results/review-tags.js";
import { DataError } from "../../src/util/errors.js";
import { acquireLock } from "../../src/util/lock.js";

function tempFolder(): string {
  return mkdtempSync(join(tmpdir(), "curricula-review-tags-"));
}

const T = "2026-12-07T12:00:00Z";

function tag(
  sourceIndex: number,
  kind: ReviewTag["tag"],
  newLabel: string | null = null,
  time = T,
): ReviewTag {
  return { sourceIndex, tag: kind, newLabel, time };
}

/** Writes `text` as a tags file and returns the error reading it throws. */
function readError(text: string): { path: string; error: unknown } {
  const path = join(tempFolder(), "tags.csv");
  writeFileSync(path, text);
  let error: unknown = null;
  try {
    readReviewTags(path);
  } catch (e) {
    error = e;
  }
  return { path, error };
}

describe("reviewTagsPath", () => {
  it("is <results_dir>/<experiment>/review/tags.csv", () => {
    expect(reviewTagsPath("results", "default")).toBe(join("results", "default", "review", "tags.csv"));
  });

  it("refuses an experiment id that is not one folder name", () => {
    expect(() => reviewTagsPath("results", "../elsewhere")).toThrow(/experiment_id/);
  });
});

describe("writeReviewTags and readReviewTags", () => {
  it("round-trip: one row per sample, the last tag winning, fine clearing, sorted by source_index", () => {
    const path = join(tempFolder(), "results", "exp", "review", "tags.csv");
    writeReviewTags(path, [
      tag(40, "mislabelled"),
      tag(7, "relabel", "cat, big", "2026-12-07T12:00:01.250+01:00"),
      tag(3, "ambiguous"),
      tag(40, "relabel", "dog"),
      tag(12, "mislabelled"),
      tag(12, "fine"),
      tag(5, "fine"),
      tag(3, "ambiguous", null, "2026-12-07T13:00:00Z"),
    ]);
    expect(readFileSync(path, "utf8")).toBe(
      [
        "source_index,tag,new_label,time",
        "3,ambiguous,,2026-12-07T13:00:00Z",
        '7,relabel,"cat, big",2026-12-07T12:00:01.250+01:00',
        "40,relabel,dog,2026-12-07T12:00:00Z",
        "",
      ].join("\n"),
    );
    expect(readReviewTags(path)).toEqual([
      tag(3, "ambiguous", null, "2026-12-07T13:00:00Z"),
      tag(7, "relabel", "cat, big", "2026-12-07T12:00:01.250+01:00"),
      tag(40, "relabel", "dog"),
    ]);
    // Written through a temporary file renamed into place: nothing else is left in the folder.
    expect(readdirSync(join(path, ".."))).toEqual(["tags.csv"]);
  });

  it("writes a header-only file for no tags (or only fine ones), which reads back as none", () => {
    const path = join(tempFolder(), "tags.csv");
    writeReviewTags(path, [tag(1, "mislabelled"), tag(1, "fine")]);
    expect(readFileSync(path, "utf8")).toBe("source_index,tag,new_label,time\n");
    expect(readReviewTags(path)).toEqual([]);
  });

  it("reads a fine row someone wrote by hand as a fine tag", () => {
    const path = join(tempFolder(), "tags.csv");
    writeFileSync(path, `source_index,tag,new_label,time\n9,fine,,${T}\n`);
    expect(readReviewTags(path)).toEqual([tag(9, "fine")]);
  });

  it("refuses a malformed tag, naming the sample and the column, and leaves the file as it was", () => {
    const path = join(tempFolder(), "tags.csv");
    writeReviewTags(path, [tag(1, "ambiguous")]);
    const before = readFileSync(path, "utf8");
    expect(() => writeReviewTags(path, [tag(2, "mislabelled"), tag(3, "relabel")])).toThrow(
      /tags\.csv: tag 1 \(source_index 3\), column new_label: tag relabel needs the new label; nothing was written/,
    );
    expect(() => writeReviewTags(path, [tag(2, "mislabelled", null, "yesterday")])).toThrow(
      /column time: expected an ISO-8601 time/,
    );
    expect(() => writeReviewTags(path, [tag(-1, "mislabelled")])).toThrow(/column source_index/);
    expect(() => writeReviewTags(path, [tag(2, "wrong" as ReviewTag["tag"])])).toThrow(
      /column tag: expected one of mislabelled, ambiguous, fine, relabel/,
    );
    expect(readFileSync(path, "utf8")).toBe(before);
  });
});

describe("readReviewTags on bad input", () => {
  const header = "source_index,tag,new_label,time\n";
  const cases: Array<[string, string, RegExp]> = [
    ["a missing column", "source_index,tag,time\n1,ambiguous,T\n", /missing column 'new_label'/],
    ["an unknown column", `${header.trim()},note\n1,ambiguous,,${T},x\n`, /unknown column 'note'/],
    [
      "a negative source_index",
      `${header}-1,ambiguous,,${T}\n`,
      /row 2, column source_index: expected a non-negative integer, got '-1'/,
    ],
    [
      "a fractional source_index",
      `${header}1,ambiguous,,${T}\n2.5,ambiguous,,${T}\n`,
      /row 3, column source_index: .*got '2\.5'/,
    ],
    ["an empty source_index", `${header},ambiguous,,${T}\n`, /row 2, column source_index: .*got ''/],
    [
      "an unknown tag",
      `${header}1,wrong,,${T}\n`,
      /row 2, column tag: expected one of mislabelled, ambiguous, fine, relabel, got "wrong"/,
    ],
    [
      "a relabel without its label",
      `${header}1,relabel,,${T}\n`,
      /row 2, column new_label: tag relabel needs the new label/,
    ],
    [
      "a label on another tag",
      `${header}1,mislabelled,cat,${T}\n`,
      /row 2, column new_label: only tag relabel takes a new label/,
    ],
    [
      "a time that is no ISO-8601",
      `${header}1,ambiguous,,7 Dec 2026\n`,
      /row 2, column time: expected an ISO-8601 time/,
    ],
    ["a time without a zone", `${header}1,ambiguous,,2026-12-07T12:00:00\n`, /row 2, column time/],
    ["an impossible date", `${header}1,ambiguous,,2026-13-45T12:00:00Z\n`, /row 2, column time/],
    [
      "a sample tagged twice",
      `${header}1,ambiguous,,${T}\n1,mislabelled,,${T}\n`,
      /row 3, column source_index: sample 1 is tagged again \(first in row 2\)/,
    ],
    ["a ragged row", `${header}1,ambiguous\n`, /invalid CSV/],
    ["an empty file", "", /empty CSV/],
  ];
  for (const [what, text, message] of cases) {
    it(`names the file, the row and the column: ${what}`, () => {
      const { path, error } = readError(text);
      expect(error).toBeInstanceOf(DataError);
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toMatch(message);
    });
  }

  it("names a file that does not exist", () => {
    const path = join(tempFolder(), "missing.csv");
    expect(existsSync(path)).toBe(false);
    expect(() => readReviewTags(path)).toThrow(`${path}: file not found`);
  });
});

describe("adding a tag while another process writes the file", () => {
  it("waits for the file's lock and keeps the other writer's tag (a read-modify-write without the lock loses one)", async () => {
    const path = join(tempFolder(), "review", "tags.csv");
    writeReviewTags(path, [tag(1, "mislabelled")]);
    // The other process has taken the lock and read the file; it writes after this one asked to add.
    const held = acquireLock(path);
    if ("heldBy" in held) throw new Error(`lock not taken: ${held.heldBy}`);
    const theirs = readReviewTags(path);
    const adding = addReviewTag(path, tag(3, "relabel", "7"));
    writeReviewTags(path, [...theirs, tag(2, "ambiguous")]);
    held.release();
    const after = await adding;
    expect(after.map((t) => [t.sourceIndex, t.tag])).toEqual([
      [1, "mislabelled"],
      [2, "ambiguous"],
      [3, "relabel"],
    ]);
    expect(readReviewTags(path)).toEqual(after);
    expect(existsSync(join(path, "..", ".locks", "tags.csv.lock"))).toBe(false);
  });
});
