import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { trainRunWith } from "../../src/assembly/train-run.js";
import { type ProgressSnapshot, setProgressSink } from "../../src/util/progress.js";
import { fakeDeps } from "../training/fakes.js";
import { blobConfig, tempDir } from "../training/helpers.js";

/** The trainer reports progress per batch (with rate and ETA), and per sample while evaluating. */
const root = tempDir("trainer-progress");
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => setProgressSink(null));

async function record(config: ReturnType<typeof blobConfig>, dir: string): Promise<ProgressSnapshot[][]> {
  const sent: ProgressSnapshot[][] = [];
  setProgressSink((bars) => sent.push(bars), 0);
  await trainRunWith(fakeDeps(), config, { runDir: join(root, dir), log: null, progress: true });
  return sent;
}

describe("trainer progress", () => {
  it("epoch training: one unit per batch, the epoch and loss as info, an Eval bar per evaluation", async () => {
    const config = blobConfig({ iterations: 3, progress_bar: true });
    const sent = await record(config, "epochs");
    const train = sent.map((bars) => bars[0]).filter((b) => b?.label === "Train") as ProgressSnapshot[];
    const trainSize = train[0]?.total ?? 0;
    const perEpoch = trainSize / 3;
    expect(Number.isInteger(perEpoch) && perEpoch > 1).toBe(true);
    expect(train[0]?.unit).toBe("batches");
    // Every batch is reported: the values climb by one through all epochs.
    const values = train.map((b) => b.value);
    for (let v = 1; v <= trainSize; v++) expect(values).toContain(v);
    expect(train.find((b) => b.value === perEpoch + 1)?.info).toMatch(/^epoch 2\/3 loss \d+\.\d{4}$/);
    expect(train.every((b) => b.rate >= 0)).toBe(true);
    const evals = sent.flatMap((bars) => bars.filter((b) => b.label.startsWith("Eval")));
    expect(new Set(evals.map((b) => b.label))).toEqual(
      new Set(["Eval epoch 1", "Eval epoch 2", "Eval epoch 3"]),
    );
    expect(evals[0]?.unit).toBe("samples");
    // Evaluation is nested inside training: both bars are reported together.
    const nested = sent.find((bars) => bars.length === 2);
    expect(nested?.map((b) => b.label)).toEqual(["Train", expect.stringMatching(/^Eval epoch \d$/)]);
    expect(sent.some((bars) => bars.some((b) => b.label === "Test"))).toBe(true);
  });

  it("step training: one unit per step", async () => {
    const config = blobConfig({
      training_type: "step",
      iterations: 12,
      eval_frequency: 4,
      progress_bar: true,
    });
    const sent = await record(config, "steps");
    const train = sent.map((bars) => bars[0]).filter((b) => b?.label === "Train") as ProgressSnapshot[];
    expect(train[0]?.total).toBe(12);
    expect(train.find((b) => b.value === 5)?.info).toMatch(/^step 5\/12 loss /);
  });

  it("progress_bar: false reports nothing", async () => {
    const sent = await record(blobConfig({ iterations: 2, progress_bar: false }), "quiet");
    expect(sent).toEqual([]);
  });
});
