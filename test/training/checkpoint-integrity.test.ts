import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainRunWith } from "../../src/assembly/train-run.js";
import { isRunFinished } from "../../src/results/run-folder.js";
import { DataError } from "../../src/util/errors.js";
import { fakeDeps } from "./fakes.js";
import { blobConfig, crashAt, differingFiles, tempDir } from "./helpers.js";

/**
 * Checkpoint integrity: every checkpoint records the SHA-256 of its files (checksums.json); a resume
 * checks them, falls back to the previous intact checkpoint when the latest is damaged or gone, and
 * without any intact one names the way out. A fallen-back run still ends byte-identical.
 */
const root = tempDir("checkpoint-integrity");
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `run${counter++}`);
const quiet = { log: null, progress: false } as const;
const config = blobConfig({ iterations: 6 });

/** A run crashed after epoch 5's evaluation: complete checkpoints at epochs 1 to 4. */
async function crashedRun(): Promise<string> {
  const dir = freshDir();
  await expect(
    trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet, callbacks: [crashAt(5)] }),
  ).rejects.toThrow(/simulated crash at 5/);
  return dir;
}

function flipByte(path: string, at = 0.5): void {
  const bytes = readFileSync(path);
  const i = Math.floor(bytes.length * at);
  bytes[i] = (bytes[i] as number) ^ 0x10;
  writeFileSync(path, bytes);
}

let straight: string;

describe("checkpoint checksums", () => {
  it("records the SHA-256 of each checkpoint file, the same for equal runs (no timestamps)", async () => {
    straight = freshDir();
    await trainRunWith(fakeDeps(), config, { runDir: straight, ...quiet });
    const checksums = JSON.parse(readFileSync(join(straight, "epoch_2", "checksums.json"), "utf8"));
    expect(Object.keys(checksums.files)).toEqual([
      "model.json",
      "optimizer.bin",
      "optimizer.json",
      "weights.bin",
    ]);
    expect(checksums.trainer_state).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(checksums.best ?? {})).toContain("weights.bin");
    const again = freshDir();
    await trainRunWith(fakeDeps(), config, { runDir: again, ...quiet });
    expect(differingFiles(straight, again)).toEqual([]);
  });

  it("a flipped byte in the latest checkpoint is found; the run falls back to the previous one", async () => {
    const dir = await crashedRun();
    flipByte(join(dir, "epoch_4", "weights.bin"));
    await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet });
    const log = readFileSync(join(dir, "training.log"), "utf8");
    expect(log).toMatch(
      /Damaged checkpoint epoch_4: .*epoch_4\/weights\.bin: damaged \(its SHA-256 differs from checksums\.json\); falling back/,
    );
    expect(log).toMatch(/Resuming .* after epoch 3 of 6/);
    expect(differingFiles(straight, dir)).toEqual([]);
  });

  it("a deleted latest checkpoint folder resumes from the previous one (its _best/ snapshot is kept)", async () => {
    const dir = await crashedRun();
    rmSync(join(dir, "epoch_4"), { recursive: true });
    rmSync(join(dir, "epoch_5"), { recursive: true });
    await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet });
    expect(readFileSync(join(dir, "training.log"), "utf8")).toMatch(/Resuming .* after epoch 3 of 6/);
    expect(differingFiles(straight, dir)).toEqual([]);
  });

  it("a changed trainer state is found too", async () => {
    const dir = await crashedRun();
    const state = join(dir, "epoch_4", "trainer_state.json");
    const text = readFileSync(state, "utf8");
    expect(text).toContain('"schedulerSteps":4');
    writeFileSync(state, text.replace('"schedulerSteps":4', '"schedulerSteps":5'));
    await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet });
    expect(readFileSync(join(dir, "training.log"), "utf8")).toMatch(
      /Damaged checkpoint epoch_4: .*trainer_state\.json: damaged/,
    );
    expect(differingFiles(straight, dir)).toEqual([]);
  });

  it("without an intact checkpoint the error lists each one's problem and names the way out", async () => {
    const dir = await crashedRun();
    for (let e = 1; e <= 4; e++) flipByte(join(dir, `epoch_${e}`, "optimizer.bin"));
    const error = await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet }).catch((e) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toMatch(/no intact checkpoint to resume from/);
    expect(error.message).toMatch(/epoch_4: .*optimizer\.bin: damaged/);
    expect(error.message).toMatch(/epoch_3: /);
    expect(error.message).toMatch(
      /delete the run folder .*curricula rm-failed <results_dir> <experiment_id>/,
    );
    expect(isRunFinished(dir)).toBe(false);
    // The way out works: the folder deleted, the run trains from scratch to the same result.
    rmSync(dir, { recursive: true });
    await trainRunWith(fakeDeps(), config, { runDir: dir, ...quiet });
    expect(differingFiles(straight, dir)).toEqual([]);
  });
});
