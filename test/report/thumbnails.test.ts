import { describe, expect, it } from "vitest";
import { featureStore, SplitDataset, ViewSubset } from "../../src/data/store.js";
import type { ScoreData } from "../../src/report/collect.js";
import { thumbnailTable } from "../../src/report/thumbnails.js";

/** A 4-image, 2 × 2 grey dataset whose samples come from files with hostile names. */
function fileDataset(files: string[]) {
  const store = featureStore(
    Uint8Array.from({ length: 16 }, (_, i) => i * 16),
    4,
    { scale: 1 / 255 },
  );
  const rows = Int32Array.from([0, 1, 2, 3]);
  const view = (name: "train" | "dev" | "test") =>
    new ViewSubset(name, store, rows, Int32Array.from([0, 0, 1, 1]), rows.slice());
  return new SplitDataset({
    id: "Files",
    featureShape: [2, 2, 1],
    classNames: ["a", "b"],
    isImage: true,
    imageShape: [2, 2, 1],
    subsets: { train: view("train"), dev: view("dev"), test: view("test") },
    sourceFiles: files,
  });
}

describe("thumbnails of a dataset of files", () => {
  it("name each sample's file in the tooltip and alt text, as text", () => {
    const files = [
      "a/<script>alert(1)</script>.png",
      'a/"quoted".png',
      "b/<img src=x onerror=alert(2)>.png",
      "b/plain.png",
    ];
    const score: ScoreData = {
      type: "CELoss",
      id: "CELoss",
      path: "CELoss.csv",
      index: Int32Array.from([0, 1, 2, 3]),
      sourceIndex: Int32Array.from([0, 1, 2, 3]),
      mean: Float64Array.from([0.1, 0.2, 0.3, 0.4]),
      ranks: Float64Array.from([0, 1 / 3, 2 / 3, 1]),
      encoded: Int32Array.from([0, 0, 1, 1]),
      decoded: ["a", "a", "b", "b"],
      card: null,
    };
    const html = thumbnailTable(score, fileDataset(files), 1);
    expect(html).not.toMatch(/<script>/);
    expect(html).not.toMatch(/<img src=x/);
    expect(html).toContain("a/&lt;script&gt;alert(1)&lt;/script&gt;.png");
    expect(html).toContain("b/plain.png");
    expect(html.match(/<img /g)).toHaveLength(4);
  });
});
