import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cartesian, composeGrid, loadGroupConfig } from "../../src/config/compose.js";
import { runName } from "../../src/config/naming.js";
import { ConfigError, UsageError } from "../../src/util/errors.js";
import { collector, tempProject } from "../support/project.js";

/** `${key}` as written in YAML. */
const ref = (key: string) => ["$", "{", key, "}"].join("");

describe("composition of the packaged default", () => {
  it("trains Digits/FFNN/Adam with no files at all", async () => {
    const cwd = tempProject();
    const points = await composeGrid({ cwd, log: null });
    expect(points).toHaveLength(1);
    const config = points[0]?.config;
    expect(config?.dataset).toMatchObject({
      id: "Digits",
      type: "Digits",
      metrics: ["accuracy", "uar", "f1"],
    });
    expect(config?.model.id).toBe("FFNN");
    expect(config?.optimizer.id).toBe("Adam");
    expect(config?.curriculum).toMatchObject({
      id: "None",
      short: "N",
      sampling: { id: "None" },
      pacing: { id: "None" },
    });
    expect(config?.save_frequency).toBe(config?.eval_frequency); // ${eval_frequency}
    expect(runName(config as never)).toBe("Digits_FFNN_Adam_0.001_32_epoch_10_None_None_N_N_None_None_1_0_1");
  });

  it("applies dotted overrides and group selections", async () => {
    const cwd = tempProject();
    const [point] = await composeGrid({
      cwd,
      log: null,
      overrides: [
        "model=CNN",
        "dataset=DigitsImage",
        "model.hidden=32",
        "optimizer=SGD",
        "optimizer.momentum=0.5",
      ],
    });
    expect(point?.config.model).toMatchObject({ id: "CNN", hidden: 32 });
    expect(point?.config.dataset).toMatchObject({ id: "DigitsImage", shape: "image" });
    expect(point?.config.optimizer).toMatchObject({ id: "SGD", momentum: 0.5, nesterov: false });
  });
});

describe("grids", () => {
  it("expands command-line comma lists into a cartesian product, last key fastest", async () => {
    const cwd = tempProject();
    const points = await composeGrid({
      cwd,
      log: null,
      overrides: ["seed=1,2", "learning_rate=0.1,0.01,0.001"],
    });
    expect(points.map((p) => [p.config.seed, p.config.learning_rate])).toEqual([
      [1, 0.1],
      [1, 0.01],
      [1, 0.001],
      [2, 0.1],
      [2, 0.01],
      [2, 0.001],
    ]);
    expect(points[4]?.overrides).toEqual(["seed=2", "learning_rate=0.01"]);
  });

  it("sweeps YAML lists in sweep params (also the hydra.sweeper spelling), and the command line wins", async () => {
    const cwd = tempProject({
      "conf/config.yaml": [
        "defaults: [_curricula_train_, _self_]",
        "hydra:",
        "  sweeper:",
        "    params:",
        "      +seed: [1, 2, 3]",
        "      batch_size: 16,64",
        "      learning_rate: 0.01",
        "      model: FFNN",
      ].join("\n"),
    });
    const points = await composeGrid({ cwd, log: null });
    expect(points.map((p) => `${p.config.seed}/${p.config.batch_size}`)).toEqual([
      "1/16",
      "1/64",
      "2/16",
      "2/64",
      "3/16",
      "3/64",
    ]);
    const cli = await composeGrid({ cwd, log: null, overrides: ["seed=9"] });
    expect(cli.map((p) => p.config.seed)).toEqual([9, 9]);
  });

  it("expands the curriculum quickstart grid and drops partial curricula (§2.4)", async () => {
    const cwd = tempProject();
    const points = await composeGrid({
      cwd,
      log: null,
      overrides: [
        "curriculum=Curriculum,None",
        "curriculum/scoring=Random,None",
        "curriculum/pacing=Linear,None",
        "curriculum/sampling=Balanced,None",
        "curriculum.pacing.initial_size=0.1,0.2",
        "curriculum.pacing.final_iteration=0.8",
        "curriculum.scoring.dataset=Digits",
      ],
      schema: null,
    });
    const shorts = points.map((p) => {
      const c = p.config.curriculum as { short: string; pacing: { id: string; initial_size: number } };
      return `${c.short}:${c.pacing.id}:${c.pacing.initial_size}`;
    });
    expect(shorts).toEqual(["C:Linear:0.1", "C:Linear:0.2", "N:None:0.1", "N:None:0.2"]);
  });

  it("builds a cartesian product of arbitrary axes", () => {
    expect(cartesian<number | string | boolean>([[1, 2], ["a"], [true, false]])).toEqual([
      [1, "a", true],
      [1, "a", false],
      [2, "a", true],
      [2, "a", false],
    ]);
    expect(cartesian([])).toEqual([[]]);
  });

  it("refuses two different configs that map to one run folder", async () => {
    const cwd = tempProject();
    await expect(composeGrid({ cwd, log: null, overrides: ["dataset.dev_split=0.1,0.3"] })).rejects.toThrow(
      /both map to .* differ in: dataset\.dev_split/,
    );
  });

  it("counts a grid before expanding it: beyond 100,000 points is a usage error naming its size", async () => {
    const cwd = tempProject();
    // Every point would fail validation (batch_size <= 0): the size is refused before any is composed.
    const grid = composeGrid({
      cwd,
      log: null,
      overrides: ["seed=range(0,400)", "batch_size=range(-300,0)"],
    });
    await expect(grid).rejects.toThrow(UsageError);
    await expect(grid).rejects.toThrow(/The grid has 120000 points \(seed \(400\) x batch_size \(300\)\)/);
    // One range is counted before its values are listed.
    const range = composeGrid({ cwd, log: null, overrides: ["seed=range(0,200000)", "batch_size=-1"] });
    await expect(range).rejects.toThrow(UsageError);
    await expect(range).rejects.toThrow(/range\(0,200000\)': 200000 values/);
    const huge = composeGrid({ cwd, log: null, overrides: ["seed=range(0,1000000000000)"] });
    await expect(huge).rejects.toThrow(/more than the 100000 grid points/);
    // At the limit a grid is composed as before.
    expect(await composeGrid({ cwd, log: null, overrides: ["seed=range(0,3)"] })).toHaveLength(3);
  });

  it("drops identical duplicate points", async () => {
    const cwd = tempProject();
    expect(await composeGrid({ cwd, log: null, overrides: ["seed=1,1"] })).toHaveLength(1);
  });
});

describe("required values and validation", () => {
  it("names the key and the file of a value left as ???", async () => {
    const cwd = tempProject({ "conf/model/Mine.yaml": "id: Mine\ntype: FFNN\nhidden_sizes: ???\n" });
    const error = await composeGrid({ cwd, log: null, overrides: ["model=Mine"] }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.key).toBe("model.hidden_sizes");
    expect(error.file).toBe(join(cwd, "conf", "model", "Mine.yaml"));
    expect(error.message).toMatch(/required value missing/);
  });

  it("names a group choice left as ??? with the available configs", async () => {
    const cwd = tempProject();
    await expect(
      composeGrid({ cwd, log: null, overrides: ["curriculum=Curriculum", "curriculum/scoring=???"] }),
    ).rejects.toThrow(/curriculum\/scoring: no config chosen \(\?\?\?\).*available: .*None/);
  });

  it("reports zod errors with the file that set the key", async () => {
    const cwd = tempProject({ "conf/optimizer/Bad.yaml": "id: Bad\ntype: Adagrad\n" });
    const error = await composeGrid({ cwd, log: null, overrides: ["optimizer=Bad"] }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.key).toBe("optimizer.type");
    expect(error.file).toBe(join(cwd, "conf", "optimizer", "Bad.yaml"));
  });

  it("names an override as the origin of a bad value", async () => {
    const cwd = tempProject();
    await expect(composeGrid({ cwd, log: null, overrides: ["batch_size=-4"] })).rejects.toThrow(
      /command line \(batch_size\): batch_size:/,
    );
  });

  it("rejects unknown config names and groups", async () => {
    const cwd = tempProject();
    await expect(composeGrid({ cwd, log: null, overrides: ["dataset=Nope"] })).rejects.toThrow(
      /no config named 'Nope'/,
    );
    await expect(composeGrid({ cwd, log: null, overrides: ["nogroup/x=Y"] })).rejects.toThrow(UsageError);
    await expect(composeGrid({ cwd, log: null, configName: "missing" })).rejects.toThrow(
      /no entry config 'missing.yaml'/,
    );
  });

  it("rejects experiment ids with '_'", async () => {
    const cwd = tempProject();
    await expect(composeGrid({ cwd, log: null, overrides: ["experiment_id=my_exp"] })).rejects.toThrow(
      /must not contain '_'/,
    );
  });

  it("resolves key interpolation and reports missing references", async () => {
    const cwd = tempProject({
      "conf/config.yaml":
        "defaults: [_curricula_train_, _self_]\nseed: 1\nbatch_size: 32\nlearning_rate: 0.01\ninference_batch_size: " +
        ref("batch_size") +
        "\n_note: run-" +
        ref("seed") +
        "-" +
        ref("model.id") +
        "\n",
      "conf/broken.yaml":
        "defaults: [_curricula_train_, _self_]\nseed: 1\nbatch_size: " +
        ref("nothing.here") +
        "\nlearning_rate: 0.01\n",
    });
    const [point] = await composeGrid({ cwd, log: null, overrides: ["batch_size=8"] });
    expect(point?.config.inference_batch_size).toBe(8);
    const loose = point?.config as unknown as Record<string, unknown> | undefined;
    expect(loose?._note).toBe("run-1-FFNN");
    await expect(composeGrid({ cwd, log: null, configName: "broken" })).rejects.toThrow(
      /\$\{nothing\.here\} refers to a missing key/,
    );
  });
});

describe("filters", () => {
  it("drops points by expression and logs them", async () => {
    const cwd = tempProject({
      "conf/config.yaml": [
        "defaults: [_curricula_train_, _self_]",
        "batch_size: 32",
        "learning_rate: 0.001",
        "sweep:",
        "  params: {seed: [1, 2, 3], model: 'FFNN,CNN'}",
        "  filters:",
        "    - {type: expr, expr: 'model.id == \"CNN\" and seed > 1'}",
      ].join("\n"),
    });
    const { lines, log } = collector();
    const points = await composeGrid({ cwd, log, schema: null });
    expect(points.map((p) => `${p.config.seed}${(p.config.model as { id: string }).id}`)).toEqual([
      "1FFNN",
      "1CNN",
      "2FFNN",
      "3FFNN",
    ]);
    expect(lines).toEqual([
      'Filtered: seed=2 model=CNN with expr: model.id == "CNN" and seed > 1',
      'Filtered: seed=3 model=CNN with expr: model.id == "CNN" and seed > 1',
    ]);
  });

  it("drops points whose run folder has a file (exists), silently with log: false", async () => {
    const cwd = tempProject({
      "conf/config.yaml": [
        "defaults: [_curricula_train_, _self_]",
        "batch_size: 32",
        "learning_rate: 0.001",
        "sweep:",
        "  params: {seed: '1,2'}",
        "  filters: [{type: exists, path: done.txt, log: false}]",
      ].join("\n"),
      "results/default/training/Digits_FFNN_Adam_0.001_32_epoch_10_None_None_N_N_None_None_1_0_2/done.txt":
        "",
    });
    const { lines, log } = collector();
    const points = await composeGrid({ cwd, log });
    expect(points.map((p) => p.config.seed)).toEqual([1]);
    expect(lines).toEqual([]);
  });

  it("a grid whose every point is an incomplete curriculum is a usage error naming what is missing", async () => {
    const { log } = collector();
    const failure = composeGrid({ cwd: tempProject(), log, overrides: ["curriculum=Curriculum"] });
    await expect(failure).rejects.toThrow(UsageError);
    await expect(failure).rejects.toThrow(
      /Every grid point has an incomplete curriculum, so nothing would train: curriculum=Curriculum needs curriculum\/scoring, curriculum\/pacing, curriculum\/sampling \(they are None\)/,
    );
    await expect(
      composeGrid({
        cwd: tempProject(),
        log,
        overrides: [
          "curriculum=Curriculum",
          "curriculum/scoring=CELoss",
          "curriculum/pacing=Linear",
          "curriculum.pacing.initial_size=0.2",
          "curriculum.pacing.final_iteration=0.8",
        ],
      }),
    ).rejects.toThrow(/curriculum=Curriculum needs curriculum\/sampling \(it is None\)/);
    await expect(
      composeGrid({ cwd: tempProject(), log, overrides: ["curriculum/sampling=Balanced"] }),
    ).rejects.toThrow(/curriculum=None does not take curriculum\/sampling=Balanced/);
  });

  it("filtering some incomplete curricula out of a sweep stays silent", async () => {
    const { lines, log } = collector();
    const points = await composeGrid({
      cwd: tempProject(),
      log,
      overrides: ["curriculum=None,Curriculum"],
    });
    expect(points).toHaveLength(1);
    expect(lines).toEqual([]);
  });

  it("rejects unknown filter types naming the file", async () => {
    const cwd = tempProject({
      "conf/config.yaml": "defaults: [_curricula_train_, _self_]\nsweep:\n  filters: [{type: magic}]\n",
    });
    await expect(composeGrid({ cwd, log: null })).rejects.toThrow(
      /config\.yaml: sweep\.filters\[0\]\.type: unknown filter type "magic"/,
    );
  });
});

describe("search path", () => {
  it("lets a local conf/ shadow a packaged config by name", () => {
    const cwd = tempProject({ "conf/model/FFNN.yaml": "id: FFNN\ntype: FFNN\nhidden_sizes: [8]\n" });
    expect(loadGroupConfig("model", "FFNN", undefined, cwd)).toEqual({
      id: "FFNN",
      type: "FFNN",
      hidden_sizes: [8],
    });
    expect(loadGroupConfig("model", "CNN", undefined, cwd)).toMatchObject({ id: "CNN", channels: [32, 64] });
  });

  it("honours -cp and -cn", async () => {
    const cwd = tempProject({
      "elsewhere/exp.yaml":
        "defaults: [_curricula_train_, _self_]\nseed: 4\nbatch_size: 16\nlearning_rate: 0.1\niterations: 2\n",
    });
    const [point] = await composeGrid({ cwd, log: null, configPath: "elsewhere", configName: "exp.yaml" });
    expect(point?.config).toMatchObject({ seed: 4, batch_size: 16, iterations: 2 });
  });

  it("fails with the available names for an unknown group config", () => {
    expect(() => loadGroupConfig("dataset", "Nope", undefined, tempProject())).toThrow(
      /available: Digits, DigitsImage/,
    );
  });
});
