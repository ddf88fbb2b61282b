import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExploreData } from "../../src/explore/data.js";
import type { ExploreTable } from "../../src/explore/types.js";
import { scoreCELoss, trainDigitsRuns } from "../scoring/fixture.js";

/**
 * Results trees for the explorer's tests: two tiny Digits runs (3 epochs, outputs saved) and the
 * CELoss score of the first, as `curricula train` and `curricula curriculum` write them.
 */
export async function digitsExperiment(): Promise<{ resultsDir: string; runs: string[]; scoreCsv: string }> {
  const { resultsDir, runs } = await trainDigitsRuns([1, 2]);
  await scoreCELoss(resultsDir, runs[0] as string);
  return { resultsDir, runs, scoreCsv: join(resultsDir, "default", "curriculum", "CELoss", "CELoss.csv") };
}

/** Text that runs script when a page parses it as markup. */
export const HOSTILE = {
  script: "<script>window.__xss = 1</script>",
  img: '<img src=x onerror="window.__xss = 1">',
  close: "</script><script>window.__xss = 1</script>",
};

/**
 * An explored experiment whose class names, file names, score ids and text values are markup that
 * runs script if a page ever parses it: the page must show every one as text.
 */
export function hostileData(): ExploreData {
  const resultsDir = mkdtempSync(join(tmpdir(), "curricula-explore-xss-"));
  mkdirSync(join(resultsDir, "default"), { recursive: true });
  writeFileSync(join(resultsDir, "default", "note.txt"), "inside");
  const classNames = [HOSTILE.script, HOSTILE.img, HOSTILE.close];
  const n = 6;
  const table: ExploreTable = {
    experiment: "default",
    subset: "train",
    datasetId: HOSTILE.img,
    size: n,
    classNames,
    image: null,
    sourceFiles: Array.from({ length: n }, (_, i) => `${HOSTILE.img}${i}.png`),
    featureNames: [HOSTILE.script, "plain"],
    features: Array.from({ length: n }, (_, i) => [i, i * 2]),
    sourceIndex: Array.from({ length: n }, (_, i) => 10 + i),
    label: Array.from({ length: n }, (_, i) => i % 3),
    predicted: Array.from({ length: n }, (_, i) => (i + 1) % 3),
    runs: [
      {
        name: HOSTILE.close,
        seed: HOSTILE.img,
        iterations: [1, 2],
        predicted: Array.from({ length: n }, (_, i) => (i + 1) % 3),
      },
    ],
    scores: [{ type: HOSTILE.script, id: HOSTILE.img, columns: ["x/mean", "x/region"] }],
    columns: [
      {
        key: "x/mean",
        label: HOSTILE.img,
        kind: "number",
        score: HOSTILE.img,
        description: HOSTILE.script,
        values: [0.5, 0.1, null, 0.3, 0.9, 0.2],
      },
      {
        key: "x/region",
        label: HOSTILE.script,
        kind: "category",
        score: HOSTILE.img,
        description: HOSTILE.close,
        values: Array.from({ length: n }, (_, i) => (i % 2 ? HOSTILE.img : HOSTILE.close)),
      },
    ],
    problems: [HOSTILE.script],
    tags: [],
    readOnly: false,
  };
  return {
    resultsDir,
    experiment: "default",
    table,
    dataset: null,
    subset: null,
    embedding: null,
    curves: [
      { iterations: [1, 2], probabilities: [new Float32Array(n).fill(0.25), new Float32Array(n).fill(0.75)] },
    ],
  };
}
