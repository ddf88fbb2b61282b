import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkSamplerRecord, readSamplerLog, writeSamplerLog } from "../../src/results/sampler-log.js";

const root = mkdtempSync(join(tmpdir(), "curricula-sampler-log-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("sampler.csv", () => {
  it("reads back what the writer wrote: iteration first, then the record's keys in their order", () => {
    const path = join(root, "sampler.csv");
    const rows = [
      { iteration: 1, values: { easy: 0, normal: 10, hard: 0, rate: Number.NaN } },
      { iteration: 2, values: { easy: 3, normal: 5, hard: 2, rate: 0.25 } },
    ];
    writeSamplerLog(path, rows);
    expect(readFileSync(path, "utf8").split("\n").slice(0, 3)).toEqual([
      "iteration,easy,normal,hard,rate",
      "1,0,10,0,",
      "2,3,5,2,0.25",
    ]);
    expect(readSamplerLog(path)).toEqual(rows);
  });

  it("a record with other keys than the first, a key named iteration or a value that is not a number is refused", () => {
    const first = { iteration: 1, values: { easy: 1, hard: 2 } };
    expect(() => checkSamplerRecord({ hard: 2, easy: 1 }, first, "Mine()")).toThrow(
      /Mine\(\): record\(\) returned the keys hard, easy, expected easy, hard as at the first evaluation/,
    );
    expect(() => checkSamplerRecord({ iteration: 3 }, undefined, "Mine()")).toThrow(
      /record\(\) cannot have a key named "iteration"/,
    );
    expect(() => checkSamplerRecord({ easy: "1" }, undefined, "Mine()")).toThrow(
      /record\(\)\.easy must be a number, got "1"/,
    );
    expect(() => checkSamplerRecord([1, 2], undefined, "Mine()")).toThrow(
      /must return an object of numbers or null/,
    );
    expect(checkSamplerRecord({ easy: 1, hard: 2 }, first, "Mine()")).toEqual({ easy: 1, hard: 2 });
  });

  it("the reader names the file, the row and the column of a bad cell", () => {
    const path = join(root, "bad.csv");
    writeFileSync(path, "iteration,easy\n1,3\n2,many\n");
    expect(() => readSamplerLog(path)).toThrow(
      /bad\.csv: row 3: column "easy": expected a number, got "many"/,
    );
    writeFileSync(path, "easy,iteration\n3,1\n");
    expect(() => readSamplerLog(path)).toThrow(/bad\.csv: expected "iteration" as the first column/);
    writeFileSync(path, "iteration,easy\n1.5,3\n");
    expect(() => readSamplerLog(path)).toThrow(/bad\.csv: row 2: expected an integer iteration, got "1.5"/);
  });
});
