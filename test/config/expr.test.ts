import { describe, expect, it } from "vitest";
import { evaluateExpr } from "../../src/config/expr.js";
import { ConfigError } from "../../src/util/errors.js";

const config = {
  seed: 3,
  model: { id: "FFNN" },
  learning_rate: 0.01,
  progress_bar: true,
  curriculum: { pacing: { id: "None" } },
};

describe("filter expressions", () => {
  it("compares dotted keys with strings, numbers and booleans", () => {
    expect(evaluateExpr('model.id == "FFNN"', config)).toBe(true);
    expect(evaluateExpr("model.id != 'FFNN'", config)).toBe(false);
    expect(evaluateExpr("seed > 2", config)).toBe(true);
    expect(evaluateExpr("seed <= 2", config)).toBe(false);
    expect(evaluateExpr("learning_rate >= 1e-2", config)).toBe(true);
    expect(evaluateExpr("progress_bar == true", config)).toBe(true);
    expect(evaluateExpr("1 != 1", config)).toBe(false);
  });

  it("combines with and/or/not and parentheses, with the usual precedence", () => {
    expect(evaluateExpr('model.id == "FFNN" and seed > 2', config)).toBe(true);
    expect(evaluateExpr('model.id == "CNN" or seed == 3', config)).toBe(true);
    expect(evaluateExpr("not seed == 3", config)).toBe(false);
    expect(evaluateExpr("seed == 1 or seed == 3 and model.id == 'CNN'", config)).toBe(false);
    expect(evaluateExpr("(seed == 1 or seed == 3) and model.id == 'FFNN'", config)).toBe(true);
    expect(evaluateExpr("!(seed < 3) && curriculum.pacing.id == None", config)).toBe(false);
    expect(evaluateExpr('curriculum.pacing.id == "None"', config)).toBe(true);
  });

  it("never evaluates code and reports syntax errors with the expression", () => {
    expect(() => evaluateExpr("process.exit(1)", config)).toThrow(ConfigError);
    expect(() => evaluateExpr("seed ==", config)).toThrow(/cannot parse 'seed =='/);
    expect(() => evaluateExpr("(seed == 1", config)).toThrow(/missing '\)'/);
    expect(() => evaluateExpr("1 < seed < 5", config)).toThrow(/chained/);
  });

  it("names a key the config does not have", () => {
    expect(() => evaluateExpr("optimizer.lr > 1", config)).toThrow(/optimizer\.lr: .*does not have/);
  });

  it("refuses to order values of different types", () => {
    expect(() => evaluateExpr('seed < "3"', config)).toThrow(/cannot order/);
  });
});
