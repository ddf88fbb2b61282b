import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeCorrelationMatrix } from "../../src/scoring/correlation-matrix.js";
import { writeCsv } from "../../src/util/csv.js";

/** Writes curriculum/<type>/<id>.csv with the columns a final score file has. */
function writeScore(dir: string, id: string, mean: number[], ranks: number[]): void {
  mkdirSync(join(dir, id), { recursive: true });
  writeCsv(
    join(dir, id, `${id}.csv`),
    ["index", "source_index", "mean", "ranks", "encoded", "decoded"],
    mean.map((m, i) => ({
      index: i,
      source_index: 10 + i,
      mean: m,
      ranks: ranks[i],
      encoded: 0,
      decoded: "a",
    })),
  );
}

function matrixValue(csv: string, row: string, column: string): number {
  const [header, ...lines] = readFileSync(csv, "utf8").trim().split("\n");
  const columns = (header as string).split(",");
  const line = lines.find((l) => l.startsWith(`${row},`)) as string;
  return Number(line.split(",")[columns.indexOf(column)]);
}

describe("correlation matrix", () => {
  it("orients reversed scores by their ranks: an easy-is-high score correlates with its hard-is-high twin", async () => {
    const dir = mkdtempSync(join(tmpdir(), "corr-"));
    writeScore(dir, "Loss", [0.1, 0.5, 0.3, 0.9], [0, 2 / 3, 1 / 3, 1]);
    writeScore(dir, "Accuracy", [0.9, 0.2, 0.6, 0.1], [0, 2 / 3, 1 / 3, 1]); // reversed: high = easy
    const result = await writeCorrelationMatrix(dir, "m", "all", "spearman", { plot: false });
    expect(result?.ids).toEqual(["Accuracy", "Loss"]);
    expect(matrixValue(result?.csv as string, "Loss", "Accuracy")).toBeCloseTo(1, 10);
  });

  it("does not invent an order among tied scores (ranks break ties by position; the means do not)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "corr-"));
    // Two blocks of ties; within a block the tie-broken ranks follow the index.
    writeScore(dir, "Tied", [0, 0, 1, 1], [0, 1 / 3, 2 / 3, 1]);
    // Within each block the other score orders the samples the other way round.
    writeScore(dir, "Fine", [0.2, 0.1, 0.4, 0.3], [1 / 3, 0, 1, 2 / 3]);
    const result = await writeCorrelationMatrix(dir, "m", "all", "spearman", { plot: false });
    // On the tie-broken ranks this would be 0.6; with ties as ties it is Pearson([1.5,1.5,3.5,3.5],[2,1,4,3]).
    expect(matrixValue(result?.csv as string, "Tied", "Fine")).toBeCloseTo(0.894427191, 6);
  });
});
