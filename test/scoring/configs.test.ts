import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGED_CONFIG_DIR } from "../../src/config/package.js";
import type { ScoreContext } from "../../src/scoring/abstract-score.js";
import { describeParams, MISSING } from "../../src/scoring/argument-schemas.js";
import { SETUP_DEFAULTS } from "../../src/scoring/functions/cv-loss.js";
import { SCORING_TYPES } from "../../src/scoring/registry.js";
import { readYaml } from "../../src/util/yaml-io.js";

const dir = join(PACKAGED_CONFIG_DIR, "curriculum", "scoring");
const context: ScoreContext = {
  outputDirectory: "/nonexistent",
  resultsDir: "/nonexistent",
  experimentId: "x",
  batchSize: null,
  progress: false,
  log: () => {},
};

/** Common tests over the registry: a new scoring function is checked without new contract tests. */
describe.each(Object.entries(SCORING_TYPES))("scoring function %s", (type, cls) => {
  const config = readYaml<Record<string, unknown>>(join(dir, `${type}.yaml`));

  it("has a packaged config with id and type", () => {
    expect(config.id).toBe(type);
    expect(config.type).toBe(type);
  });

  it("packaged config lists exactly the class's parameters; required ones are ???, the others their defaults", () => {
    const params = describeParams(cls.schema);
    const keys = Object.keys(config).filter((k) => k !== "id" && k !== "type");
    expect(keys.sort()).toEqual(params.map((p) => p.key).sort());
    for (const p of params) {
      if (p.required && p.key !== "setup") expect(config[p.key], `${type}.${p.key}`).toBe(MISSING);
      else if (p.key !== "setup") expect(config[p.key], `${type}.${p.key}`).toEqual(p.default);
    }
  });

  it("cites its source", () => {
    expect(cls.reference.length).toBeGreaterThan(5);
  });

  it("rejects an invalid subset and an unknown parameter, naming the key", () => {
    expect(() => new cls({ ...config, subset: "validation" }, context)).toThrow(
      "Subset 'validation' not supported",
    );
    expect(() => new cls({ ...config, colour: 1 }, context)).toThrow(
      /curriculum\.scoring\.colour: unknown parameter/,
    );
    if (Object.values(config).includes(MISSING))
      expect(() => new cls(config, context)).toThrow(/required value missing/);
  });
});

describe("packaged scoring configs", () => {
  it("cover the registry plus the None placeholder", () => {
    const names = readdirSync(dir)
      .map((f) => f.replace(/\.yaml$/, ""))
      .sort();
    expect(names).toEqual([...Object.keys(SCORING_TYPES), "None"].sort());
    expect(readYaml(join(dir, "None.yaml"))).toEqual({ id: "None", type: "None" });
  });

  it("CVLoss setup lists the keys of a training setup", () => {
    const config = readYaml<{ setup: Record<string, unknown> }>(join(dir, "CVLoss.yaml"));
    expect(config.setup).toEqual(SETUP_DEFAULTS);
  });
});
