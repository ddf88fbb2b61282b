import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ReviewTag,
  readReviewTags,
  reviewTagsPath,
  writeReviewTags,
} from "../../src/results/review-tags.js";

const root = mkdtempSync(join(tmpdir(), "curricula-review-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tag = (sourceIndex: number, kind: ReviewTag["tag"], newLabel: string | null = null): ReviewTag => ({
  sourceIndex,
  tag: kind,
  newLabel,
  time: `2026-01-01T00:00:0${sourceIndex % 10}.000Z`,
});

describe("review tags (review/tags.csv)", () => {
  it("lives at <results>/<experiment>/review/tags.csv", () => {
    expect(reviewTagsPath("results", "default")).toBe(join("results", "default", "review", "tags.csv"));
  });

  it("reads back what it wrote, one row per sample in source-index order, the last tag winning and fine clearing", () => {
    const path = join(root, "a", "review", "tags.csv");
    writeReviewTags(path, [
      tag(7, "mislabelled"),
      tag(3, "ambiguous"),
      tag(7, "relabel", '<b>cat</b>, "quoted"'),
      tag(5, "mislabelled"),
      tag(5, "fine"),
    ]);
    expect(readReviewTags(path)).toEqual([tag(3, "ambiguous"), tag(7, "relabel", '<b>cat</b>, "quoted"')]);
    expect(readFileSync(path, "utf8").split("\n")[0]).toBe("source_index,tag,new_label,time");
    expect(readdirSync(dirname(path))).toEqual(["tags.csv"]);
  });

  it("reads no tags when the file does not exist", () => {
    expect(readReviewTags(join(root, "missing", "tags.csv"))).toEqual([]);
  });

  it("refuses a bad row, naming the file, the row and the column", () => {
    const path = join(root, "bad.csv");
    writeFileSync(path, "source_index,tag,new_label,time\n4,wrong,,t\n");
    expect(() => readReviewTags(path)).toThrow(`${path}: row 2: tag: expected one of`);
    writeFileSync(path, "source_index,tag,new_label,time\n-1,fine,,t\n");
    expect(() => readReviewTags(path)).toThrow("source_index: expected an integer");
    writeFileSync(path, "source_index,tag,new_label,time\n4,relabel,,t\n");
    expect(() => readReviewTags(path)).toThrow("new_label: a relabel tag needs the new class name");
    writeFileSync(path, "source_index,tag\n4,fine\n");
    expect(() => readReviewTags(path)).toThrow("missing column 'new_label'");
  });
});
