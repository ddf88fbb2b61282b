import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bestIteration } from "../../src/results/run-folder.js";
import { readScoreRows } from "../../src/results/score-table.js";
import { readCsv } from "../../src/util/csv.js";
import { ConfigError } from "../../src/util/errors.js";
import { expectCloseTo } from "../support/assert.js";
import { executeScore, scoreColumn, scoreManagerConfig, trainDigitsRuns } from "./fixture.js";

/**
 * OnlineLoss and PassRate, the scores of the trainer's online trackers, against the
 * train_trackers.csv tables two small runs recorded: per-run values, the ensemble (a mean of EMAs;
 * pooled correct steps over pooled attempts), the stop, ranking direction and seed robustness.
 */

let resultsDir: string;
let runs: string[];

beforeAll(async () => {
  ({ resultsDir, runs } = await trainDigitsRuns(["1-1", "2-1"]));
});

afterAll(() => {
  rmSync(resultsDir, { recursive: true, force: true });
});

const runDir = (run: string) => join(resultsDir, "default", "training", run);

/** A run's tracker table at an iteration, by position in the train subset. */
function table(run: string, iteration: number): Map<number, Record<string, number>> {
  const { rows } = readCsv(join(runDir(run), `epoch_${iteration}`, "train_trackers.csv"));
  return new Map(
    rows.map((r) => [
      Number(r.index),
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)])) as Record<string, number>,
    ]),
  );
}

const execute = (scoring: Record<string, unknown>) =>
  executeScore(scoreManagerConfig(resultsDir, scoring, { robustness: { bootstrap: 50, seed: 1 } }));

it("OnlineLoss is the mean over runs of the recorded loss EMA (stop: last); a high loss ranks hard", async () => {
  const { rows, atomic, card, dir } = await execute({
    id: "OnlineLoss",
    type: "OnlineLoss",
    run_name: runs,
    stop: "last",
  });
  expect(atomic.map((a) => a.name)).toEqual(runs.map((r) => `${r}_l`));
  const tables = runs.map((r) => table(r, 3));
  const index = Array.from(rows.index);
  const expected = index.map(
    (p) => ((tables[0]?.get(p)?.ema_loss ?? 0) + (tables[1]?.get(p)?.ema_loss ?? 0)) / 2,
  );
  const mean = scoreColumn(rows, "mean");
  expectCloseTo(mean, expected, 12, "OnlineLoss mean");
  const perRun = readScoreRows(join(dir, `${runs[1]}_l`, "scores.csv"));
  expect(Array.from(perRun.columns.get("scores") ?? [])).toEqual(
    Array.from(perRun.index, (p) => tables[1]?.get(p)?.ema_loss),
  );
  const ranks = scoreColumn(rows, "ranks");
  expect(mean[ranks.indexOf(1)]).toBe(Math.max(...mean));
  expect(card.reference).toMatch(/Zhou et al/);
  expect(card.robustness).toMatchObject({ pairs: 1, runs: 2 });
});

it("PassRate pools correct steps over attempts at each run's best iteration; a high pass rate ranks easy", async () => {
  const { rows, atomic } = await execute({ id: "PassRate", type: "PassRate", run_name: runs });
  expect(atomic.map((a) => a.name)).toEqual(runs.map((r) => `${r}_b`));
  const tables = runs.map((r) => table(r, bestIteration(runDir(r))));
  const index = Array.from(rows.index);
  const correct = index.map((p) => tables.reduce((s, t) => s + (t.get(p)?.correct ?? 0), 0));
  const attempts = index.map((p) => tables.reduce((s, t) => s + (t.get(p)?.attempts ?? 0), 0));
  expect(scoreColumn(rows, "correct")).toEqual(correct);
  expect(scoreColumn(rows, "attempts")).toEqual(attempts);
  // Every sample was trained on once per epoch by each run (full passes).
  expect(new Set(attempts).size).toBe(1);
  const mean = scoreColumn(rows, "mean");
  expectCloseTo(
    mean,
    correct.map((c, i) => c / (attempts[i] as number)),
    14,
    "PassRate mean",
  );
  const ranks = scoreColumn(rows, "ranks");
  expect(mean[ranks.indexOf(1)]).toBe(Math.min(...mean));
  expect(mean[ranks.indexOf(0)]).toBe(Math.max(...mean));
});

it("refuses a subset other than train, naming the key", async () => {
  const error = await execute({ id: "PassRate-dev", type: "PassRate", run_name: runs, subset: "dev" }).catch(
    (e) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.message).toMatch(/curriculum\.scoring\.subset.*train subset only; got 'dev'/s);
});

it("a run without tracker tables (trained by an earlier version) is an error saying so, never a reused score", async () => {
  const dir = runDir(runs[1] as string);
  for (const entry of readdirSync(dir)) {
    if (/^epoch_\d+$/.test(entry)) rmSync(join(dir, entry, "train_trackers.csv"), { force: true });
  }
  // Its score computed above is not reused: the table was among its inputs.
  await expect(
    execute({ id: "OnlineLoss-one", type: "OnlineLoss", run_name: runs[1], stop: "last" }),
  ).rejects.toThrow(/other inputs.*train_trackers\.csv.*<missing> \(now\)/s);
  await expect(
    execute({ id: "OnlineLoss-best", type: "OnlineLoss", run_name: runs[1], stop: "best" }),
  ).rejects.toThrow(/train_trackers\.csv: no online tracker table .*retrain the run/);
});
