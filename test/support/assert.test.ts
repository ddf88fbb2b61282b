import { describe, expect, it } from "vitest";
import { expectClose, expectCloseTo } from "./assert.js";

describe("element-wise assertions", () => {
  it("pass on equal arrays and on differences within the tolerance", () => {
    expectClose([1, 2, 3], Float64Array.from([1, 2, 3.000001]), "close");
    expectCloseTo([0.5, 0.25], [0.5000001, 0.25], 5, "close");
  });

  it("fail on a short, empty or missing array instead of comparing nothing", () => {
    expect(() => expectCloseTo([1, 2], [1, 2, 3], 5, "short")).toThrow(/short: length/);
    expect(() => expectCloseTo([], [], 5, "empty")).toThrow(/empty: the expected array is empty/);
    expect(() => expectCloseTo(undefined, [1], 5, "gone")).toThrow(/gone: missing/);
    expect(() => expectClose([1, 2], [1, 2, 3], "short")).toThrow(/short: length/);
    expect(() => expectClose(null, [1], "gone")).toThrow(/gone: missing/);
  });

  it("fail on a value out of tolerance, naming the element", () => {
    expect(() => expectClose([1, 2, 4], [1, 2, 3], "far")).toThrow(/far: element 2 is 4, expected 3/);
    expect(() => expectClose([1, Number.NaN], [1, 2], "nan")).toThrow(/nan: element 1 is NaN/);
    expect(() => expectCloseTo([1, 2.01], [1, 2], 5, "far")).toThrow(/far\[1\]/);
  });
});
