import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runDir, scoreFile } from "../../src/config/layout.js";
import { createDataset, withLabelNoise } from "../../src/data/index.js";
import { loadExplore, sampleNeighbours } from "../../src/explore/data.js";
import { pick, readScoreRows, writeScoreRows } from "../../src/results/score-table.js";
import { saveOutputs } from "../../src/results/subset-outputs.js";
import { loadNpy } from "../../src/util/npy.js";
import { writeYaml } from "../../src/util/yaml-io.js";
import { datasetConfig } from "../data/dataset-config.js";
import { digitsConfig, executeScore, scoreManagerConfig, trainDigitsRuns } from "../scoring/fixture.js";

/** What loadExplore makes of results trees without training runs: tables, foreign score files, no dataset. */
const root = mkdtempSync(join(tmpdir(), "curricula-explore-data-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const flowers = join(dirname(fileURLToPath(import.meta.url)), "..", "data", "fixtures", "flowers.csv");
const flowersDataset = () =>
  createDataset(datasetConfig("CSV", { path: flowers, target_column: "species", split_column: "split" }));

/** A results tree with one run folder holding only its config (the dataset is rebuilt from it). */
function tree(name: string): string {
  const resultsDir = join(root, name);
  const config = digitsConfig(resultsDir, 1);
  const dir = runDir(resultsDir, "default", "run-1");
  mkdirSync(dir, { recursive: true });
  writeYaml(join(dir, "config.yaml"), config);
  return resultsDir;
}

function writeScore(
  resultsDir: string,
  id: string,
  sourceIndex: number[],
  labels: string[],
  mean: number[],
): void {
  const path = scoreFile(resultsDir, "default", { type: id, id });
  mkdirSync(dirname(path), { recursive: true });
  writeScoreRows(path, {
    index: Int32Array.from(sourceIndex, (_, i) => i),
    sourceIndex: Int32Array.from(sourceIndex),
    encoded: Int32Array.from(labels, (l) => ["daisy", "rose", "tulip"].indexOf(l)),
    decoded: labels,
    columns: new Map([
      ["mean", Float64Array.from(mean)],
      ["ranks", Float64Array.from(mean, (_, i) => i / (mean.length - 1))],
    ]),
  });
}

describe("loadExplore", () => {
  it("shows a table dataset's feature values under their column names", async () => {
    const resultsDir = tree("table");
    writeScore(
      resultsDir,
      "Mine",
      [0, 1, 2, 3, 4],
      ["rose", "tulip", "rose", "tulip", "daisy"],
      [5, 4, 3, 2, 1],
    );
    const data = await loadExplore(resultsDir, "default", { datasetLoader: flowersDataset });
    const t = data.table;
    expect(t.featureNames).toEqual(["width", "height", "colour_code"]);
    expect(t.features?.[1]).toEqual(Array.from((await flowersDataset()).subset("train").batch([1]).x));
    expect(t.image).toBeNull();
    expect(t.classNames).toEqual(["daisy", "rose", "tulip"]);
    expect(t.label).toEqual([1, 2, 1, 2, 0]);
    expect(t.runs).toEqual([]);
    expect(t.predicted).toEqual([-1, -1, -1, -1, -1]);
    expect(t.columns.map((c) => [c.label, c.values])).toEqual([
      ["Mine", [5, 4, 3, 2, 1]],
      ["Mine rank", [0, 0.25, 0.5, 0.75, 1]],
    ]);
    expect(t.problems).toEqual([]);
  });

  it("shows what the dataset's label noise changed as a column of clean labels", async () => {
    const resultsDir = tree("noise");
    const noisy = async () =>
      withLabelNoise(await flowersDataset(), { rate: 0.4, kind: "symmetric", seed: 3 });
    const data = await loadExplore(resultsDir, "default", { datasetLoader: noisy });
    const noise = (await noisy()).labelNoise;
    const expected = ["", "", "", "", ""];
    noise?.positions.forEach((p, i) => {
      expected[p] = ["daisy", "rose", "tulip"][noise.original[i] as number] as string;
    });
    expect(noise?.positions.length).toBe(2);
    expect(data.table.columns.map((c) => [c.label, c.values])).toEqual([
      ["label noise: clean label", expected],
    ]);
    expect(data.table.label).toEqual(Array.from(data.subset?.labels ?? []));
    expect(data.table.featureNames).toEqual(["width", "height", "colour_code"]);
  });

  it("leaves out, with a note naming it, a score file of other samples", async () => {
    const resultsDir = tree("foreign");
    writeScore(
      resultsDir,
      "Other",
      [0, 1, 2, 3, 9],
      ["rose", "tulip", "rose", "tulip", "daisy"],
      [1, 2, 3, 4, 5],
    );
    const data = await loadExplore(resultsDir, "default", { datasetLoader: flowersDataset });
    expect(data.table.columns).toEqual([]);
    expect(data.table.problems).toEqual([
      expect.stringContaining(
        `${scoreFile(resultsDir, "default", { type: "Other", id: "Other" })}: left out`,
      ),
    ]);
    expect(data.table.problems[0]).toContain("source_index 9 where the subset has 4");
  });

  it("without a run config, shows the samples of the score files (labels from their decoded column)", async () => {
    const resultsDir = join(root, "scores-only");
    writeScore(resultsDir, "Mine", [7, 8, 9], ["rose", "daisy", "rose"], [1, 2, 3]);
    const data = await loadExplore(resultsDir, "default");
    expect(data.table.sourceIndex).toEqual([7, 8, 9]);
    expect(data.table.classNames).toEqual(["daisy", "rose"]);
    expect(data.table.label).toEqual([1, 0, 1]);
    expect(data.dataset).toBeNull();
  });

  it("finds neighbours in the softmax outputs of the run's best iteration (the last without _best/), exactly", async () => {
    const resultsDir = tree("neighbours");
    const dir = runDir(resultsDir, "default", "run-1");
    const train = (await createDataset(digitsConfig(resultsDir, 1).dataset)).subset("train");
    const n = train.size;
    // epoch 1: every sample on a line, logits (t, 0, …, 0) with t = position / n (so softmax is monotone
    // in t and position p's nearest are p ± 1, p ± 2, …); epoch 2: all alike
    for (const epoch of [1, 2]) {
      const logits = new Float32Array(n * 10);
      if (epoch === 1) for (let p = 0; p < n; p++) logits[p * 10] = (3 * p) / n;
      const epochDir = join(dir, `epoch_${epoch}`);
      mkdirSync(epochDir, { recursive: true });
      saveOutputs(epochDir, "train", {
        logits,
        numClasses: 10,
        targets: train.labels,
        indices: Int32Array.from({ length: n }, (_, i) => i),
        losses: new Float32Array(n),
      });
    }
    mkdirSync(join(dir, "_best"), { recursive: true });
    writeYaml(join(dir, "_best", "dev.yaml"), { accuracy: { all: 0.5 }, iteration: 1 });
    const data = await loadExplore(resultsDir, "default");
    expect(data.embedding?.iteration).toBe(1);
    const found = sampleNeighbours(data, 100, 4);
    expect(found?.kind).toBe("output");
    expect(found?.space).toBe("the model's output space (softmax outputs of run run-1 at iteration 1)");
    expect(found?.neighbours.map((x) => x.position).sort((a, b) => a - b)).toEqual([98, 99, 101, 102]);
    expect(
      found?.neighbours
        .slice(0, 2)
        .map((x) => x.position)
        .sort((a, b) => a - b),
    ).toEqual([99, 101]);
    expect(sampleNeighbours(data, 0, 3)?.neighbours.map((x) => x.position)).toEqual([1, 2, 3]);
    // k beyond the subset: every other sample
    expect(sampleNeighbours(data, 0, n + 5)?.neighbours).toHaveLength(n - 1);
    rmSync(join(dir, "_best"), { recursive: true });
    const last = await loadExplore(resultsDir, "default");
    expect(last.embedding?.iteration).toBe(2);
    // every sample alike: distances 0, ties in position order
    expect(sampleNeighbours(last, 5, 3)?.neighbours.map((x) => [x.position, x.distance])).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
  });

  it("finds neighbours in PredictionDepth's saved embedding of the deepest hidden probe, exactly, and names that space", {
    timeout: 120_000,
  }, async () => {
    const { resultsDir, runs } = await trainDigitsRuns([1, 2]);
    // probes: input (0), relu0 (1, the hidden layer's 16 units), output (2)
    const { atomic } = await executeScore(
      scoreManagerConfig(resultsDir, {
        id: "PredictionDepth",
        type: "PredictionDepth",
        run_name: runs,
        probe_placements: ["relu\\d+"],
        save_embeddings: true,
      }),
    );
    const first = atomic[0]?.name as string;
    const data = await loadExplore(resultsDir, "default");
    expect(data.embedding?.kind).toBe("probe");
    expect(data.embedding?.probe).toBe(1);
    expect(data.embedding?.run).toBe(first);
    // the reference: the .npy read by hand, each row tied to its sample through scores.csv, float64
    const folder = join(resultsDir, "default", "curriculum", "PredictionDepth", first);
    const npy = loadNpy(join(folder, "embeddings_1.npy"));
    const rows = readScoreRows(join(folder, "scores.csv"));
    const [count, dim] = npy.shape as [number, number];
    expect(dim).toBe(16);
    const n = data.table.size;
    expect(count).toBe(n);
    const vectors: Float64Array[] = new Array(n);
    rows.index.forEach((row, r) => {
      const position = data.table.sourceIndex.indexOf(rows.sourceIndex[r] as number);
      vectors[position] = Float64Array.from(npy.data.subarray(row * dim, (row + 1) * dim) as Float32Array);
    });
    const distance = (a: number, b: number) =>
      Math.sqrt(
        (vectors[a] as Float64Array).reduce(
          (s, v, j) => s + (v - ((vectors[b] as Float64Array)[j] as number)) ** 2,
          0,
        ),
      );
    // .npy row r is the sample at index r of scores.csv, whatever the csv's row order: reversed rows change nothing
    const again = await loadExplore(resultsDir, "default");
    writeScoreRows(
      join(folder, "scores.csv"),
      pick(
        rows,
        Array.from({ length: n }, (_, r) => n - 1 - r),
      ),
    );
    const reversed = await loadExplore(resultsDir, "default");
    for (const [loaded, position] of [
      [again, 0],
      [again, 57],
      [reversed, 57],
      [reversed, n - 1],
    ] as const) {
      const found = sampleNeighbours(loaded, position, 7);
      expect(found?.kind).toBe("probe");
      expect(found?.space).toBe(
        `the embedding of probe 1 of PredictionDepth run ${first} (score PredictionDepth; the last of its 3 probes before the output, 16 values)`,
      );
      const reference = Array.from({ length: n }, (_, p) => p)
        .filter((p) => p !== position)
        .map((p) => ({ p, d: distance(position, p) }))
        .sort((a, b) => a.d - b.d || a.p - b.p)
        .slice(0, 7);
      expect(found?.neighbours.map((x) => x.position)).toEqual(reference.map((x) => x.p));
      expect(found?.neighbours.map((x) => x.distance)).toEqual(
        reference.map((x) => Number(x.d.toPrecision(5))),
      );
    }
    // the score is of the train subset: the dev subset's neighbours stay in the output space
    const dev = await loadExplore(resultsDir, "default", { subset: "dev" });
    expect(dev.embedding?.kind).toBe("output");
    expect(sampleNeighbours(dev, 0, 3)?.space).toMatch(/^the model's output space \(softmax outputs of run /);
    rmSync(resultsDir, { recursive: true, force: true });
  });

  it("names the folder when there is nothing to explore", async () => {
    await expect(loadExplore(root, "absent")).rejects.toThrow(
      `${join(root, "absent")}: experiment folder not found`,
    );
    mkdirSync(join(root, "empty", "default"), { recursive: true });
    await expect(loadExplore(join(root, "empty"), "default")).rejects.toThrow("nothing to explore");
  });
});
