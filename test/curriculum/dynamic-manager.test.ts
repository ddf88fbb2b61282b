import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainRunWith } from "../../src/assembly/train-run.js";
import { type RunConfig, RunConfigSchema } from "../../src/config/schema.js";
import { readSamplerLog } from "../../src/results/sampler-log.js";
import { readCsv } from "../../src/util/csv.js";
import { fakeDeps } from "../training/fakes.js";
import { blobConfig, crashAt, differingFiles, straightAndResumed, tempDir } from "../training/helpers.js";

// A user's dynamic sampler with keyword arguments, as a module of its own (what `module:` names):
// each pass keeps a random `keep_fraction` of the samples (its own random stream) and weighs the
// loss of those whose last loss was above the mean by `boost`.
const SAMPLER = `
import { AbstractSampler } from "${resolve("src/curriculum/index.ts")}";

export class KeepSome extends AbstractSampler {
  static defaults = { keep_fraction: 0.5, boost: 1 };
  begin(setup) {
    super.begin(setup);
    this.losses = new Array(setup.size).fill(0);
    this.passes = 0;
    this.mean = 0;
  }
  sample(n) {
    this.passes += 1;
    this.mean = this.losses.reduce((a, b) => a + b, 0) / n;
    const keep = Math.round(this.args.keep_fraction * n);
    return this.setup.rng.permutation(n).slice(0, keep);
  }
  update(positions, outputs) {
    positions.forEach((p, i) => { this.losses[p] = outputs.losses[i]; });
  }
  weights(positions) {
    return Float32Array.from(positions, (p) => (this.losses[p] > this.mean ? this.args.boost : 1));
  }
  state() { return { losses: this.losses, passes: this.passes, mean: this.mean }; }
  load(state) { this.losses = state.losses; this.passes = state.passes; this.mean = state.mean; }
}
`;

// A user's sampler that records counts at each evaluation (what becomes sampler.csv); from pass
// `rename_at` on (0: never) it renames a key, which the run must refuse.
const RECORDING = `
import { AbstractSampler } from "${resolve("src/curriculum/index.ts")}";

export class Recording extends AbstractSampler {
  static defaults = { keep_fraction: 0.5, rename_at: 0 };
  begin(setup) {
    super.begin(setup);
    this.passes = 0;
    this.last = 0;
    this.trained = 0;
  }
  sample(n) {
    this.passes += 1;
    const pass = this.setup.rng.permutation(n).slice(0, Math.round(this.args.keep_fraction * n));
    this.last = pass.length;
    return pass;
  }
  update(positions) { this.trained += positions.length; }
  record() {
    const renamed = this.args.rename_at > 0 && this.passes >= this.args.rename_at;
    return { passes: this.passes, [renamed ? "pass_size" : "last_pass"]: this.last, trained: this.trained };
  }
  state() { return { passes: this.passes, last: this.last, trained: this.trained }; }
  load(state) { Object.assign(this, state); }
}
`;

const root = tempDir("dynamic-sampling");
afterAll(() => rmSync(root, { recursive: true, force: true }));
const modulePath = join(root, "keep-some.mjs");
writeFileSync(modulePath, SAMPLER);
const recordingPath = join(root, "recording.mjs");
writeFileSync(recordingPath, RECORDING);
let counter = 0;
const freshDir = () => join(root, `run${counter++}`);
const quiet = { log: null, progress: false } as const;

function dynamicRun(overrides: Record<string, unknown>, sampling: Record<string, unknown> = {}): RunConfig {
  return blobConfig({
    results_dir: root,
    experiment_id: "dyn",
    curriculum: {
      id: "Dynamic",
      type: "Dynamic",
      short: "D",
      scoring: { id: "None", type: "None" },
      pacing: { id: "None", type: "None", initial_size: 1, final_iteration: 0 },
      sampling: {
        id: "KeepSome",
        short: "K",
        module: modulePath,
        class: "KeepSome",
        keep_fraction: 0.4,
        boost: 2,
        ...sampling,
      },
    },
    ...overrides,
  });
}

describe("curriculum=Dynamic with a user's sampler (module + class + keyword arguments)", () => {
  it("trains on the passes it draws, logs its description and saves its state in every checkpoint", async () => {
    const dir = freshDir();
    const lines: string[] = [];
    const config = dynamicRun({ iterations: 4, batch_size: 8 });
    const log = (line: string) => lines.push(line);
    // stopped after epoch 3's checkpoint, then resumed to the end
    await expect(
      trainRunWith(fakeDeps(), config, { runDir: dir, log, progress: false, callbacks: [crashAt(4)] }),
    ).rejects.toThrow(/simulated crash/);
    const state = JSON.parse(readFileSync(join(dir, "epoch_3", "trainer_state.json"), "utf8"));
    expect(state.sampler.rng).toHaveLength(4);
    expect(state.sampler.sampler.passes).toBe(3);
    expect(state.sampler.sampler.losses).toHaveLength(90);
    expect(state.sampler.sampler.losses.filter((l: number) => l > 0).length).toBeGreaterThan(36);
    await trainRunWith(fakeDeps(), config, { runDir: dir, log, progress: false });
    expect(lines).toContain("curriculum: Dynamic, sampler KeepSome(keep_fraction=0.4, boost=2)");
    // 90 Blobs training samples, 36 per pass
    expect(lines.filter((l) => l.startsWith("dynamic sampling: pass from epoch"))).toEqual(
      [1, 2, 3, 4, 4].map((e) => `dynamic sampling: pass from epoch ${e} has 36 of 90 samples`),
    );
    const seen = readCsv(join(dir, "metrics.csv")).rows.map((r) => Number(r.samples_seen));
    expect(seen).toEqual([36, 72, 108, 144]);
  });

  for (const [label, overrides, crash] of [
    ["epoch training", { iterations: 6, batch_size: 8 }, crashAt(4, "onIterationEnd")],
    [
      "step training, crash mid-pass",
      { training_type: "step", iterations: 30, eval_frequency: 4, save_frequency: 2, batch_size: 8 },
      crashAt(19, "onStep"),
    ],
  ] as const) {
    it(`an interrupted and resumed run equals one that ran straight through (${label})`, async () => {
      const config = dynamicRun(overrides as Record<string, unknown>);
      const { straight, crashed } = await straightAndResumed(config, crash, freshDir);
      expect(readFileSync(join(crashed, "training.log"), "utf8")).toContain("Resuming");
      expect(differingFiles(straight, crashed)).toEqual([]);
      // the same seed again: byte-identical
      const again = freshDir();
      await trainRunWith(fakeDeps(), config, { runDir: again, ...quiet });
      expect(differingFiles(straight, again)).toEqual([]);
    });
  }

  it("a sampler without record() writes no sampler.csv", async () => {
    const dir = freshDir();
    await trainRunWith(fakeDeps(), dynamicRun({ iterations: 2 }), { runDir: dir, ...quiet });
    expect(existsSync(join(dir, "metrics.csv"))).toBe(true);
    expect(existsSync(join(dir, "sampler.csv"))).toBe(false);
  });

  const recordingRun = (overrides: Record<string, unknown>, rename_at: number): RunConfig => {
    const base = dynamicRun(overrides);
    const sampling = {
      id: "Recording",
      short: "R",
      module: recordingPath,
      class: "Recording",
      keep_fraction: 0.4,
      rename_at,
    };
    return RunConfigSchema.parse({ ...base, curriculum: { ...base.curriculum, sampling } });
  };

  it("a sampler's record() at each evaluation goes to training.log and, one row per evaluation, to sampler.csv; resumed runs keep it", async () => {
    const config = recordingRun({ iterations: 5, batch_size: 8 }, 0);
    const dir = freshDir();
    const lines: string[] = [];
    await trainRunWith(fakeDeps(), config, { runDir: dir, log: (l) => lines.push(l), progress: false });
    // 90 Blobs training samples, 36 per pass, one pass per epoch
    expect(readSamplerLog(join(dir, "sampler.csv"))).toEqual(
      [1, 2, 3, 4, 5].map((e) => ({ iteration: e, values: { passes: e, last_pass: 36, trained: 36 * e } })),
    );
    expect(lines.filter((l) => l.startsWith("dynamic sampling at"))).toEqual(
      [1, 2, 3, 4, 5].map(
        (e) => `dynamic sampling at epoch ${e}: passes ${e}, last_pass 36, trained ${36 * e}`,
      ),
    );
    // crashed after epoch 3's record but before its checkpoint: the resumed run records epoch 3 once
    const crashed = freshDir();
    await expect(
      trainRunWith(fakeDeps(), config, { runDir: crashed, ...quiet, callbacks: [crashAt(3)] }),
    ).rejects.toThrow(/simulated crash/);
    const state = JSON.parse(readFileSync(join(crashed, "epoch_2", "trainer_state.json"), "utf8"));
    expect(state.callbacks.curriculum.log).toHaveLength(2);
    await trainRunWith(fakeDeps(), config, { runDir: crashed, ...quiet });
    expect(differingFiles(dir, crashed)).toEqual([]);
  });

  it("a record() whose keys change between evaluations stops the run with the keys expected", async () => {
    const config = recordingRun({ iterations: 4, batch_size: 8 }, 3);
    await expect(trainRunWith(fakeDeps(), config, { runDir: freshDir(), ...quiet })).rejects.toThrow(
      /Recording\(keep_fraction=0.4, rename_at=3\): record\(\) returned the keys passes, pass_size, trained, expected passes, last_pass, trained as at the first evaluation/,
    );
  });

  it("a keyword argument the class does not declare is a clear error naming the key", async () => {
    await expect(
      trainRunWith(fakeDeps(), dynamicRun({ iterations: 2 }, { keep_fraktion: 0.3 }), {
        runDir: freshDir(),
        ...quiet,
      }),
    ).rejects.toThrow(/curriculum\.sampling\.keep_fraktion: not an argument of the KeepSome sampler/);
  });

  it("a missing export is a clear error naming the module and the class", async () => {
    await expect(
      trainRunWith(fakeDeps(), dynamicRun({ iterations: 2 }, { class: "Nope" }), {
        runDir: freshDir(),
        ...quiet,
      }),
    ).rejects.toThrow(/keep-some\.mjs has no exported sampler class "Nope"/);
  });

  it("the config schema keeps class-aware sampling and dynamic samplers apart", () => {
    const dynamic = dynamicRun({}).curriculum;
    expect(() =>
      RunConfigSchema.parse({
        ...blobConfig(),
        curriculum: { ...dynamic, sampling: { id: "Balanced", short: "B" } },
      }),
    ).toThrow(/curriculum Dynamic takes a dynamic sampler/);
    expect(() =>
      RunConfigSchema.parse({
        ...blobConfig(),
        curriculum: {
          ...dynamic,
          id: "Curriculum",
          type: "Curriculum",
          sampling: { id: "InfoBatch", short: "IB" },
        },
      }),
    ).toThrow(/curriculum Curriculum takes a class-aware sampling/);
  });
});
