import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRunDataset } from "../../src/assembly/review.js";
import { trainRun } from "../../src/assembly/train-run.js";
import { runDir as runFolder } from "../../src/config/layout.js";
import { runName } from "../../src/config/naming.js";
import type { RunConfig } from "../../src/config/schema.js";
import { train } from "../../src/experiments/train.js";
import { type ReviewTag, reviewTagsPath, writeReviewTags } from "../../src/results/review-tags.js";
import { readRunConfig } from "../../src/results/run-folder.js";
import { readScoreRows } from "../../src/results/score-table.js";
import { ConfigError, CurriculaError } from "../../src/util/errors.js";
import { fileSha256 } from "../../src/util/fingerprint.js";
import { loadNpy } from "../../src/util/npy.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { scoreCELoss } from "../scoring/fixture.js";
import { tempProject } from "../support/project.js";
import { digitsFfnnConfig, tempDir } from "../training/helpers.js";

const T = "2026-12-07T12:00:00Z";
const tag = (sourceIndex: number, kind: ReviewTag["tag"], newLabel: string | null = null): ReviewTag => ({
  sourceIndex,
  tag: kind,
  newLabel,
  time: T,
});

/** Digits, FFNN, one epoch on the wasm engine, in `resultsDir`'s `default` experiment. */
function oneEpoch(resultsDir: string, dataset: Record<string, unknown>): { config: RunConfig; dir: string } {
  const base = digitsFfnnConfig();
  const config = digitsFfnnConfig({
    results_dir: resultsDir,
    experiment_id: "default",
    engine: "wasm",
    iterations: 1,
    dataset: { ...base.dataset, ...dataset },
  });
  const name = runName(config as unknown as Record<string, unknown>);
  return { config, dir: runFolder(resultsDir, "default", name) };
}

const plain = await createRunDataset(digitsFfnnConfig().dataset);
const plainTrain = plain.subset("train");
const at = (p: number) => plainTrain.sourceIndex[p] as number;

describe("a run trained with dataset.exclude", () => {
  const resultsDir = tempDir("review-exclude");
  const tags = reviewTagsPath(resultsDir, "default");
  const excluded = [at(0), at(10), at(100)];
  writeReviewTags(tags, [
    tag(at(0), "mislabelled"),
    tag(at(10), "ambiguous"),
    tag(at(100), "mislabelled"),
    tag(at(20), "fine"),
    tag(at(30), "relabel", "3"),
  ]);
  const { config, dir } = oneEpoch(resultsDir, { exclude: tags });

  it("trains without exactly the tagged samples and records the tags' fingerprint", async () => {
    await trainRun(config, { runDir: dir, log: null });
    const saved = readYaml<{ dataset: Record<string, unknown> }>(join(dir, "config.yaml"));
    expect(saved.dataset.exclude).toBe(tags);
    expect(saved.dataset.exclude_sha256).toBe(fileSha256(tags));
    // The per-sample train outputs cover the train subset less the three excluded samples.
    const indices = loadNpy(join(dir, "epoch_1", "train_indices.npy")).data;
    expect(indices.length).toBe(plainTrain.size - 3);
    // Their source_index, as the score computed from the run (which rebuilds its data) records it.
    const scored = await scoreCELoss(resultsDir, runName(config as unknown as Record<string, unknown>));
    expect(scored).toBeDefined();
    const rows = readScoreRows(join(resultsDir, "default", "curriculum", "CELoss", "CELoss.csv"));
    expect(Array.from(rows.sourceIndex).sort((a, b) => a - b)).toEqual(
      Array.from(plainTrain.sourceIndex)
        .filter((s) => !excluded.includes(s))
        .sort((a, b) => a - b),
    );
    // Dev and test are as without tags.
    const dev = loadNpy(join(dir, "epoch_1", "dev_indices.npy")).data;
    expect(dev.length).toBe(plain.subset("dev").size);
    expect(readFileSync(join(dir, "training.log"), "utf8")).toContain(
      "Review tags: 3 train samples excluded (dataset.exclude), 0 relabelled (dataset.relabel)",
    );
  });

  it("is reused while the tags are the same, and refused once they changed, with nothing rewritten", async () => {
    const again = await trainRun(config, { runDir: dir, log: null });
    expect(again.skipped).toBe(true);
    const metrics = readFileSync(join(dir, "metrics.csv"));
    const before = readFileSync(tags);
    writeReviewTags(tags, [tag(at(0), "mislabelled"), tag(at(11), "ambiguous")]);
    const error = await trainRun(config, { runDir: dir, log: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /dataset\.exclude_sha256: "[0-9a-f]{64}" \(saved\) vs "[0-9a-f]{64}" \(requested\)/,
    );
    expect(readFileSync(join(dir, "metrics.csv"))).toEqual(metrics);
    // Rebuilding the run's data (as scoring does) from its config.yaml is refused as well.
    await expect(createRunDataset(readRunConfig(dir).dataset)).rejects.toThrow(
      /dataset\.exclude_sha256: .*the review tags changed since the run was configured/,
    );
    // The same tags again: the finished run is reused.
    writeFileSync(tags, before);
    expect((await trainRun(config, { runDir: dir, log: null })).skipped).toBe(true);
  });
});

describe("a run trained with dataset.relabel", () => {
  it("trains the tagged samples with their new labels, the others with their own", async () => {
    const resultsDir = tempDir("review-relabel");
    const tags = reviewTagsPath(resultsDir, "default");
    const newLabels = new Map([
      [at(1), "7"],
      [at(2), "0"],
      [at(50), "9"],
    ]);
    writeReviewTags(tags, [
      ...[...newLabels].map(([id, label]) => tag(id, "relabel", label)),
      tag(at(3), "mislabelled"),
    ]);
    const { config, dir } = oneEpoch(resultsDir, { relabel: tags });
    await trainRun(config, { runDir: dir, log: null });
    const saved = readRunConfig(dir);
    expect(saved.dataset.relabel_sha256).toBe(fileSha256(tags));
    // train_targets.npy by position; the positions' source_index from the run's own data
    const rebuilt = (await createRunDataset(saved.dataset)).subset("train");
    expect(Array.from(rebuilt.sourceIndex)).toEqual(Array.from(plainTrain.sourceIndex));
    const indices = loadNpy(join(dir, "epoch_1", "train_indices.npy")).data;
    const targets = loadNpy(join(dir, "epoch_1", "train_targets.npy")).data;
    const byId = new Map(
      Array.from(indices, (p, r) => [rebuilt.sourceIndex[p as number] as number, targets[r] as number]),
    );
    const expected = new Map(
      Array.from(plainTrain.sourceIndex, (id, p) => [
        id,
        newLabels.has(id)
          ? plain.classNames.indexOf(newLabels.get(id) as string)
          : (plainTrain.labels[p] as number),
      ]),
    );
    expect([...byId].sort((a, b) => a[0] - b[0])).toEqual([...expected].sort((a, b) => a[0] - b[0]));
    // the relabelling is visible: the three samples' own labels were others
    for (const id of newLabels.keys()) {
      expect(
        plain.classNames[plainTrain.labels[Array.from(plainTrain.sourceIndex).indexOf(id)] as number],
      ).not.toBe(newLabels.get(id));
    }
    expect(readFileSync(join(dir, "training.log"), "utf8")).toContain(
      "0 train samples excluded (dataset.exclude), 3 relabelled",
    );
  });
});

describe("curricula train with dataset.exclude", () => {
  it("trains with a tags file named on the command line and refuses the finished run once the file changed", async () => {
    const cwd = tempProject();
    const tags = reviewTagsPath(join(cwd, "results"), "default");
    writeReviewTags(tags, [tag(at(4), "mislabelled")]);
    const overrides = [
      "iterations=1",
      "engine=wasm",
      "progress_bar=false",
      "dataset.exclude=results/default/review/tags.csv",
    ];
    const first = await train({ cwd, log: null, overrides });
    expect(first.trained).toHaveLength(1);
    expect(first.failed).toHaveLength(0);
    const dir = first.trained[0]?.runDir as string;
    expect(readRunConfig(dir).dataset.exclude_sha256).toBe(fileSha256(tags));
    expect((await train({ cwd, log: null, overrides })).skipped).toHaveLength(1);
    const metrics = readFileSync(join(dir, "metrics.csv"));
    writeReviewTags(tags, [tag(at(4), "mislabelled"), tag(at(5), "ambiguous")]);
    const error = await train({ cwd, log: null, overrides }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CurriculaError);
    expect((error as Error).message).toMatch(/nothing was trained/);
    expect((error as Error).message).toMatch(
      /dataset\.exclude_sha256: "[0-9a-f]{64}" \(saved\) vs "[0-9a-f]{64}" \(requested\)/,
    );
    expect(readFileSync(join(dir, "metrics.csv"))).toEqual(metrics);
    expect(existsSync(join(dir, "epoch_1"))).toBe(true);
  });
});
