import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, describe, expect, it } from "vitest";
import { readScoreRows, writeScoreRows } from "../../src/results/score-table.js";
import { readCsvRecords } from "../../src/util/csv.js";

const dir = mkdtempSync(join(tmpdir(), "curricula-csv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("readCsvRecords", () => {
  it("splits a file without quotes as the full parser reads it (CRLF, empty lines, empty fields)", () => {
    for (const end of ["\n", "\r\n"]) {
      const text = ["a,b,c", "1,,3", "", "4,5.5,-1e-7", ",,", ""].join(end);
      const records = readCsvRecords(file("plain.csv", text));
      expect(records).toEqual(parse(text, { skip_empty_lines: true }));
      expect(records).toHaveLength(4);
    }
  });

  it("reads quoted fields (commas, quotes, line breaks) through the full parser", () => {
    const text = 'a,b\n"x,y","say ""hi"""\n"two\nlines",z\n';
    expect(readCsvRecords(file("quoted.csv", text))).toEqual([
      ["a", "b"],
      ["x,y", 'say "hi"'],
      ["two\nlines", "z"],
    ]);
  });

  it("refuses a record of another length than the header, naming the file and line", () => {
    const path = file("ragged.csv", "a,b\n1,2\n3\n");
    expect(() => readCsvRecords(path)).toThrow(`${path}: invalid CSV: line 3 has 1 fields, the header has 2`);
    expect(() => readCsvRecords(file("ragged-quoted.csv", 'a,b\n"1",2\n3\n'))).toThrow(/invalid CSV/);
    expect(() => readCsvRecords(join(dir, "missing.csv"))).toThrow(/file not found/);
  });
});

describe("readScoreRows", () => {
  it("reads back what writeScoreRows wrote: numbers (NaN as empty), text columns, quoted class names", () => {
    const path = join(dir, "scores.csv");
    const rows = {
      index: Int32Array.from([0, 1, 2]),
      sourceIndex: Int32Array.from([7, 3, 9]),
      encoded: Int32Array.from([0, 1, 0]),
      decoded: ["a,b", 'say "c"', "a,b"],
      columns: new Map([
        ["mean", Float64Array.from([0.25, Number.NaN, -3e-9])],
        ["ranks", Float64Array.from([0.5, 1, 0])],
      ]),
      text: new Map([["region", ["easy", "", "hard"]]]),
    };
    writeScoreRows(path, rows);
    const read = readScoreRows(path);
    expect(read.index).toEqual(rows.index);
    expect(read.sourceIndex).toEqual(rows.sourceIndex);
    expect(read.encoded).toEqual(rows.encoded);
    expect(read.decoded).toEqual(rows.decoded);
    expect(read.columns).toEqual(rows.columns);
    expect(read.text).toEqual(rows.text);
    const plain = file("plain-scores.csv", "index,scores,encoded,decoded\n1,0.5,0,a\n0,x,1,b\n");
    expect(() => readScoreRows(plain)).toThrow(`${plain}: missing column 'source_index'`);
    const old = readScoreRows(plain, { sourceIndexFallback: true });
    expect(Array.from(old.sourceIndex)).toEqual([1, 0]);
    expect(old.text?.get("scores")).toEqual(["0.5", "x"]);
    const bad = file("bad-index.csv", "index,source_index,encoded,decoded\n0.5,1,0,a\n");
    expect(() => readScoreRows(bad)).toThrow(`${bad}: row 2: index: expected an integer, got '0.5'`);
  });
});
