import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readMatrix, writeCorrelationTable } from "../../src/results/correlation-table.js";

const root = mkdtempSync(join(tmpdir(), "curricula-correlation-table-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("correlation tables", () => {
  it("reads back what the writer wrote: labels, values row by row and the method of the card", () => {
    const csv = writeCorrelationTable(root, "spearman_all", {
      ids: ["CVLoss", "FirstIteration"],
      skipped: ["Other"],
      method: "spearman",
      matrix: Float64Array.from([1, 0.25, 0.25, 1]),
    });
    expect(csv).toBe(join(root, "spearman_all.csv"));
    expect(readFileSync(csv, "utf8").split("\n")[0]).toBe("score,CVLoss,FirstIteration");
    expect(readMatrix(csv, "spearman_all")).toEqual({
      name: "spearman_all",
      path: csv,
      method: "spearman",
      rowLabels: ["CVLoss", "FirstIteration"],
      columnLabels: ["CVLoss", "FirstIteration"],
      matrix: [
        [1, 0.25],
        [0.25, 1],
      ],
    });
    expect(readFileSync(join(root, "spearman_all.yaml"), "utf8")).toContain("left_out:\n  - Other");
  });

  it("refuses a name that is no single file name (it would write outside the curriculum folder)", () => {
    const table = { ids: ["A"], skipped: [], method: "spearman", matrix: [1] };
    expect(() => writeCorrelationTable(root, "../escaped", table)).toThrow(/correlation: .*must not contain/);
  });
});
