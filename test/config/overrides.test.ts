import { describe, expect, it } from "vitest";
import { parseOverride, parseScalar, sweepParamValues } from "../../src/config/overrides.js";
import { UsageError } from "../../src/util/errors.js";

describe("override parsing", () => {
  it("reads dotted keys and YAML scalars", () => {
    expect(parseOverride("optimizer.weight_decay=0.01")).toMatchObject({
      key: "optimizer.weight_decay",
      values: [0.01],
      sweep: false,
    });
    expect(parseOverride("learning_rate=1e-3").values).toEqual([0.001]);
    expect(parseOverride("progress_bar=false").values).toEqual([false]);
    expect(parseOverride("scheduler.eta_min=null").values).toEqual([null]);
    expect(parseOverride("seed=1-2").values).toEqual(["1-2"]);
    expect(parseOverride("dataset=None").values).toEqual(["None"]);
  });

  it("reads group selections with slashes", () => {
    expect(parseOverride("curriculum/scoring=CELoss")).toMatchObject({
      key: "curriculum/scoring",
      values: ["CELoss"],
    });
  });

  it("expands comma lists into sweeps", () => {
    expect(parseOverride("seed=1,2,3")).toMatchObject({ values: [1, 2, 3], sweep: true });
    expect(parseOverride("curriculum/scoring=CELoss,Random").values).toEqual(["CELoss", "Random"]);
    expect(parseOverride("seed=range(1,4)")).toMatchObject({ values: [1, 2, 3], sweep: true });
  });

  it("keeps quoted commas in one string and brackets as one list value", () => {
    expect(parseOverride("name='a,b'")).toMatchObject({ values: ["a,b"], sweep: false });
    expect(parseOverride('name="x, y"').values).toEqual(["x, y"]);
    expect(parseOverride("model.hidden_sizes=[64,32]")).toMatchObject({ values: [[64, 32]], sweep: false });
    expect(parseOverride("model.hidden_sizes=[64],[128,64]")).toMatchObject({
      values: [[64], [128, 64]],
      sweep: true,
    });
    expect(parseOverride("x=['a,b',c]").values).toEqual([["a,b", "c"]]);
  });

  it("accepts Hydra's + and ++ prefixes and ~ deletion", () => {
    expect(parseOverride("+seed=1").key).toBe("seed");
    expect(parseOverride("++seed=1").key).toBe("seed");
    expect(parseOverride("~dataset.shape")).toMatchObject({ key: "dataset.shape", op: "delete" });
  });

  it("rejects malformed overrides with a usage error", () => {
    expect(() => parseOverride("seed")).toThrow(UsageError);
    expect(() => parseOverride("=3")).toThrow(/expected key=value/);
    expect(() => parseOverride("bad key=3")).toThrow(/not a config key/);
    expect(() => parseOverride("x='open")).toThrow(/unterminated/);
    expect(() => parseOverride("x=[1,2")).toThrow(/unbalanced/);
  });

  it("reads sweep params: YAML lists sweep, strings use the command-line syntax", () => {
    expect(sweepParamValues([0.1, 0.2])).toEqual([0.1, 0.2]);
    expect(sweepParamValues("1,2,3")).toEqual([1, 2, 3]);
    expect(sweepParamValues("[1,2]")).toEqual([[1, 2]]);
    expect(sweepParamValues(5)).toEqual([5]);
    expect(parseScalar("  7 ")).toBe(7);
  });
});
