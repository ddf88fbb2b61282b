import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { composeGrid } from "../../src/config/compose.js";
import { editDistance, findUnknownKeys, nearestKeys } from "../../src/config/keys.js";
import { RunConfigSchema } from "../../src/config/schema.js";
import { runConfigKeys } from "../../src/experiments/config-keys.js";
import { train } from "../../src/experiments/train.js";
import { ConfigError } from "../../src/util/errors.js";
import { runCli } from "../support/cli.js";
import { tempProject } from "../support/project.js";

/**
 * Strict configs, as Hydra is: an unknown key anywhere is an error naming the key, the nearest
 * known keys and the file or override it came from; `+key=value` adds one on purpose; keys a schema
 * declares are accepted without further ado; `--dry-run` checks what a real run would.
 */
const cwd = mkdtempSync(join(tmpdir(), "curricula-strict-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const compose = (overrides: string[], dir = cwd) =>
  composeGrid({ cwd: dir, log: null, overrides, keys: runConfigKeys });

describe("unknown keys", () => {
  it("a typo'd top-level key on the command line names the key, the nearest keys and the override", async () => {
    const failure = compose(["iteratons=5"]);
    await expect(failure).rejects.toThrow(ConfigError);
    await expect(failure).rejects.toThrow(
      /^command line \(iteratons\): iteratons: unknown key; nearest known keys: iterations; to add a key on purpose, write \+iteratons=VALUE$/,
    );
    await expect(compose(["eval_frequncy=2"])).rejects.toThrow(
      /eval_frequncy: unknown key; nearest known keys: eval_frequency, save_frequency/,
    );
  });

  it("a key of another optimiser type is unknown (momentum on Adam), and fine on SGD", async () => {
    await expect(compose(["optimizer.momentum=0.9"])).rejects.toThrow(
      /optimizer\.momentum: unknown key for type 'Adam'; the known keys here are: id, type, weight_decay, beta1, beta2, epsilon/,
    );
    const [sgd] = await compose(["optimizer=SGD", "optimizer.momentum=0.5"]);
    expect(sgd?.config.optimizer.momentum).toBe(0.5);
  });

  it("typos in dataset, model and pacing keys are found through their types", async () => {
    await expect(compose(["dataset.split_sed=2"])).rejects.toThrow(
      /dataset\.split_sed: unknown key for type 'Digits'; nearest known keys: split_seed/,
    );
    await expect(compose(["model.hidden_size=[8]"])).rejects.toThrow(
      /model\.hidden_size: unknown key for type 'FFNN'; nearest known keys: hidden_sizes/,
    );
    await expect(
      compose([
        "curriculum=Curriculum",
        "curriculum/scoring=CELoss",
        "curriculum/pacing=Linear",
        "curriculum/sampling=Balanced",
        "curriculum.pacing.initial_size=0.2",
        "curriculum.pacing.final_iteraton=0.8",
      ]),
    ).rejects.toThrow(
      /curriculum\.pacing\.final_iteraton: unknown key for type 'Linear'; nearest known keys: final_iteration/,
    );
  });

  it("keys under the None curriculum and the None pacing: a typo is unknown, their own keys are fine", async () => {
    for (const overrides of [
      ["curriculum.pacing.intial_size=0.2"],
      ["curriculum=None", "curriculum/pacing=None", "curriculum.pacing.intial_size=0.2"],
    ]) {
      await expect(compose(overrides)).rejects.toThrow(
        /curriculum\.pacing\.intial_size: unknown key for type 'None'; nearest known keys: initial_size/,
      );
    }
    await expect(compose(["curriculum.shrot=X"])).rejects.toThrow(
      /curriculum\.shrot: unknown key for type 'None'/,
    );
    // The None curriculum's pacing keys are part of the run name (the original's quickstart grid).
    const points = await compose(["curriculum.pacing.initial_size=0.2"]);
    expect(
      points.map(
        (p) =>
          (p.config as { curriculum: { pacing: { initial_size: number } } }).curriculum.pacing.initial_size,
      ),
    ).toEqual([0.2]);
  });

  it("a typo in a config file names the file", async () => {
    const dir = tempProject({
      "conf/config.yaml":
        "defaults: [_curricula_train_, _self_]\nseed: 1\nbatch_size: 32\nlearning_rate: 0.01\neval_frequncy: 2\n",
      "conf/model/Tiny.yaml": "id: Tiny\ntype: FFNN\nhidden_size: [8]\n",
    });
    await expect(compose([], dir)).rejects.toThrow(/conf\/config\.yaml: eval_frequncy: unknown key/);
    await expect(compose(["eval_frequncy=2", "~eval_frequncy", "model=Tiny"], dir)).rejects.toThrow(
      /conf\/model\/Tiny\.yaml: model\.hidden_size: unknown key for type 'FFNN'; nearest known keys: hidden_sizes/,
    );
    const swept = tempProject({
      "conf/config.yaml":
        "defaults: [_curricula_train_, _self_]\nseed: 1\nbatch_size: 32\nlearning_rate: 0.01\nsweep:\n  params:\n    iteratons: 3\n",
    });
    await expect(compose([], swept)).rejects.toThrow(
      /config\.yaml \(sweep\.params\.iteratons\): iteratons: unknown key/,
    );
  });

  it("+key=value adds a key on purpose; keys the schema declares (engine, device, threads) need nothing", async () => {
    const [point] = await compose([
      "+my_note=baseline",
      "++optimizer.momentum=0.9",
      "engine=wasm",
      "threads=2",
    ]);
    const config = point?.config as unknown as Record<string, unknown>;
    expect(config.my_note).toBe("baseline");
    expect((config.optimizer as Record<string, unknown>).momentum).toBe(0.9);
    expect(config.threads).toBe(2);
  });

  it("the check reads the schema: a key it declares is known, nested ones too", () => {
    expect(findUnknownKeys({ iterations: 1, engine: "wasm", nope: 1 }, RunConfigSchema)).toEqual([
      { key: "nope", known: [], all: expect.arrayContaining(["iterations", "engine", "device"]) },
    ]);
    expect(editDistance("iteratons", "iterations")).toBe(1);
    expect(nearestKeys("lr", ["learning_rate", "iterations"])).toEqual([]);
    expect(nearestKeys("batchsize", ["batch_size", "inference_batch_size"])).toEqual(["batch_size"]);
  });

  it("an unknown scoring parameter names the nearest one", async () => {
    const { score } = await import("../../src/scoring/score.js");
    await expect(
      score({
        cwd,
        overrides: [
          "curriculum/scoring=Random",
          "curriculum.scoring.dataset=Digits",
          "curriculum.scoring.sed=3",
        ],
        log: () => {},
      }),
    ).rejects.toThrow(/curriculum\.scoring\.sed: unknown parameter \(nearest: seed\)/);
    await expect(
      score({
        cwd,
        overrides: ["curriculum/scoring=Random", "curriculum.scoring.dataset=Digits", "corelation=null"],
        log: () => {},
      }),
    ).rejects.toThrow(/corelation: unknown key; nearest known keys: correlation/);
  });
});

describe("--dry-run checks what a real run would", () => {
  it("refuses bad optimiser, dataset and pacing values before it says 'would train'", async () => {
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    await expect(train({ cwd, log, dryRun: true, overrides: ["optimizer.beta1=2"] })).rejects.toThrow(
      /optimizer\.beta1: expected a number in \[0, 1\), got 2/,
    );
    await expect(
      train({ cwd, log, dryRun: true, overrides: ["dataset=Iris", "dataset.path=nowhere.csv"] }),
    ).rejects.toThrow(/dataset\.path: .*nowhere\.csv does not exist/);
    await expect(train({ cwd, log, dryRun: true, overrides: ["dataset.dev_split=0.9"] })).rejects.toThrow(
      /dataset\.dev_split: dev_split \+ test_split must be below 1/,
    );
    expect(lines.filter((l) => l.startsWith("would train"))).toEqual([]);
    const ok = await train({ cwd, log, dryRun: true, overrides: ["iterations=2"] });
    expect(ok.pending).toHaveLength(1);
  });

  it("the CLI: a typo exits non-zero with the message, and nothing is trained or written", () => {
    const r = runCli(["train", "iteratons=5", "--dry-run"], cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("iteratons: unknown key; nearest known keys: iterations");
    expect(r.stderr).not.toContain("would train");
    const real = runCli(["train", "eval_frequncy=2"], cwd);
    expect(real.code).toBe(1);
    expect(real.stderr).toContain("eval_frequncy: unknown key");
  });
});
