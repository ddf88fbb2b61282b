import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { aggregationDirName } from "../../src/config/layout.js";
import {
  aggregatedName,
  CONDITIONS,
  CURRICULUM_CODES,
  conditionOfCode,
  formatNumber,
  isAggregatedName,
  matchesAggregatedName,
  NAMING_KEYS,
  parseRunName,
  runName,
  tryParseRunName,
} from "../../src/config/naming.js";
import { PACKAGED_CONFIG_DIR } from "../../src/config/package.js";
import { NONE_CURRICULUM } from "../../src/config/schema.js";
import { ConfigError, UsageError } from "../../src/util/errors.js";

const base = {
  dataset: { id: "Digits" },
  model: { id: "FFNN" },
  optimizer: { id: "Adam" },
  learning_rate: 0.001,
  batch_size: 32,
  training_type: "epoch",
  iterations: 10,
  scheduler: { id: "None" },
  augmentation: { id: "None" },
  curriculum: structuredClone(NONE_CURRICULUM),
  seed: 1,
};

describe("run names", () => {
  it("joins the 16 naming fields as aucurriculum does", () => {
    expect(NAMING_KEYS).toHaveLength(16);
    expect(runName(base)).toBe("Digits_FFNN_Adam_0.001_32_epoch_10_None_None_N_N_None_None_1_0_1");
  });

  it("uses the curriculum and sampling short codes and the scoring and pacing ids", () => {
    const config = {
      ...base,
      curriculum: {
        id: "Curriculum",
        short: "C",
        scoring: { id: "CELoss" },
        pacing: { id: "Linear", initial_size: 0.2, final_iteration: 0.8 },
        sampling: { id: "Balanced", short: "B" },
      },
    };
    expect(runName(config)).toBe("Digits_FFNN_Adam_0.001_32_epoch_10_None_None_C_B_CELoss_Linear_0.2_0.8_1");
  });

  it("formats numbers like Python's str()", () => {
    expect(formatNumber(0.001)).toBe("0.001");
    expect(formatNumber(0.0001)).toBe("0.0001");
    expect(formatNumber(0.00001)).toBe("1e-05");
    expect(formatNumber(2.5e-7)).toBe("2.5e-07");
    expect(formatNumber(1)).toBe("1");
    expect(formatNumber(0.5)).toBe("0.5");
    expect(formatNumber(1e16 + 0.5)).toBe("1e+16");
  });

  it("rejects ids containing '_' with the key named", () => {
    expect(() => runName({ ...base, model: { id: "my_model" } })).toThrow(ConfigError);
    expect(() => runName({ ...base, model: { id: "my_model" } })).toThrow(
      /model\.id: 'my_model' must not contain '_'/,
    );
  });

  it("names a missing naming key", () => {
    const { dataset: _d, ...rest } = base;
    expect(() => runName(rest)).toThrow(/dataset\.id: missing/);
  });

  it("parses a run name back into its fields", () => {
    const fields = parseRunName("Digits_FFNN_Adam_0.001_32_epoch_10_None_None_C_B_CELoss_Linear_0.2_0.8_3");
    expect(fields.dataset).toBe("Digits");
    expect(fields["curriculum.sampling"]).toBe("B");
    expect(fields["curriculum.pacing.initial_size"]).toBe("0.2");
    expect(fields.seed).toBe("3");
    expect(() => parseRunName("Digits_FFNN")).toThrow(UsageError);
  });

  it("tryParseRunName gives the fields of a run name and null for a folder named by hand", () => {
    const name = "Digits_FFNN_Adam_0.001_32_epoch_10_None_None_C_B_CELoss_Linear_0.2_0.8_3";
    expect(tryParseRunName(name)).toEqual(parseRunName(name));
    expect(tryParseRunName("my-notes")).toBeNull();
    expect(tryParseRunName(`${name}_extra`)).toBeNull();
  });
});

describe("aggregated names", () => {
  const name = "Digits_FFNN_Adam_0.001_32_epoch_10_None_None_C_B_CELoss_Linear_0.2_0.8_3";

  it("replaces the aggregated fields with #", () => {
    expect(aggregatedName(name, ["seed"])).toBe(
      "Digits_FFNN_Adam_0.001_32_epoch_10_None_None_C_B_CELoss_Linear_0.2_0.8_#",
    );
    expect(aggregatedName(name, ["curriculum.pacing.initial_size", "seed"])).toBe(
      "Digits_FFNN_Adam_0.001_32_epoch_10_None_None_C_B_CELoss_Linear_#_0.8_#",
    );
    expect(isAggregatedName(aggregatedName(name, ["model"]))).toBe(true);
    expect(isAggregatedName(name)).toBe(false);
  });

  it("matches member runs against an aggregated name", () => {
    const agg = aggregatedName(name, ["seed"]);
    expect(matchesAggregatedName(agg, name)).toBe(true);
    expect(matchesAggregatedName(agg, name.replace("CELoss", "Random"))).toBe(false);
  });

  it("rejects keys that are not aggregatable, training_type included", () => {
    expect(() => aggregatedName(name, ["training_type"])).toThrow(
      /Invalid configuration to aggregate: 'training_type'/,
    );
    expect(() => aggregatedName(name, ["nope"])).toThrow(UsageError);
  });

  it("names the aggregation folder after its keys", () => {
    expect(aggregationDirName(["seed"])).toBe("agg_seed");
    expect(aggregationDirName(["curriculum.pacing.initial_size", "seed"])).toBe(
      "agg_curriculum.pacing.initial_size_seed",
    );
  });
});

describe("curriculum condition codes", () => {
  it("are the `short` codes of the packaged curriculum configs, and map back to their condition", () => {
    for (const condition of CONDITIONS) {
      const file = condition === "Baseline" ? "None" : condition;
      const config = parse(readFileSync(join(PACKAGED_CONFIG_DIR, "curriculum", `${file}.yaml`), "utf8"));
      expect(config.short, file).toBe(CURRICULUM_CODES[condition]);
      expect(conditionOfCode(CURRICULUM_CODES[condition])).toBe(condition);
    }
    expect(conditionOfCode("X")).toBeNull();
  });
});
