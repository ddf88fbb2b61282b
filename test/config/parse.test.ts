import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig, parseRunConfig } from "../../src/config/parse.js";
import { isLoss } from "../../src/config/schema.js";
import { ConfigError } from "../../src/util/errors.js";
import { digitsFfnnConfig } from "../training/helpers.js";

const Schema = z.object({ name: z.string(), sizes: z.array(z.number()), depth: z.number().default(2) });

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig: one conversion of schema errors", () => {
  it("names the file and the dotted key, indices in brackets, under the given key", () => {
    const error = errorOf(() =>
      parseConfig(Schema, { name: "a", sizes: [1, "x"] }, { file: "f.yaml", key: "model" }),
    );
    expect(error.file).toBe("f.yaml");
    expect(error.key).toBe("model.sizes[1]");
    expect(error.message).toMatch(/^f\.yaml: model\.sizes\[1\]: /);
  });

  it("says a missing key is missing and lists the further issues", () => {
    const error = errorOf(() => parseConfig(Schema, { sizes: "no" }));
    expect(error.message).toBe(
      "name: required value missing (also: sizes: Invalid input: expected array, received string)",
    );
  });

  it("asks fileOf which file set the key", () => {
    const error = errorOf(() =>
      parseConfig(Schema, { name: 1, sizes: [] }, { file: "composed", fileOf: (k) => `${k}.yaml` }),
    );
    expect(error.file).toBe("name.yaml");
  });

  it("parses a value once: its own output comes back as it is", () => {
    const input = { name: "a", sizes: [] };
    const out = parseConfig(Schema, input);
    expect(out).toEqual({ name: "a", sizes: [], depth: 2 });
    expect(out).not.toBe(input);
    expect(parseConfig(Schema, out)).toBe(out);
    expect(parseConfig(Schema, input)).not.toBe(out);
  });

  it("parseRunConfig names the file", () => {
    expect(() => parseRunConfig({ experiment_id: "x" }, "config.yaml")).toThrow(
      /^config\.yaml: seed: required value missing/,
    );
  });
});

describe("the model's start keys", () => {
  const base = digitsFfnnConfig();

  it("weights_strict and weights_sha256 only with weights; a fingerprint is 64 hex digits", () => {
    expect(() =>
      parseRunConfig({ ...base, model: { id: "FFNN", type: "FFNN", weights_strict: false } }, "c.yaml"),
    ).toThrow(/^c\.yaml: model\.weights_strict: only with model\.weights/);
    expect(() =>
      parseRunConfig({ ...base, model: { id: "FFNN", type: "FFNN", weights: "w", weights_sha256: "abc" } }),
    ).toThrow(/model\.weights_sha256: expected the file's sha256/);
    expect(() => parseRunConfig({ ...base, model: { id: "FFNN", type: "FFNN", freeze: "conv0" } })).toThrow(
      /model\.freeze/,
    );
    const model = {
      id: "FFNN",
      type: "FFNN",
      weights: "w.safetensors",
      weights_strict: false,
      freeze: ["linear0"],
    };
    expect(parseRunConfig({ ...base, model }).model).toEqual(model);
  });
});

describe("isLoss", () => {
  it("is true for loss columns only", () => {
    expect(["loss", "dev_loss", "train_loss"].every(isLoss)).toBe(true);
    expect(["accuracy", "uar", "f1", "iteration"].some(isLoss)).toBe(false);
  });
});
