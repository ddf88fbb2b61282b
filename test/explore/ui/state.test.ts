import { describe, expect, it } from "vitest";
import type { ExploreTable } from "../../../src/explore/types.js";
import { ANY_VALUE, ExploreState, NO_VALUE } from "../../../src/explore/ui/state.js";

/** The page's sorting and filtering, without a browser. */
function table(): ExploreTable {
  return {
    experiment: "default",
    subset: "train",
    datasetId: "Toy",
    size: 6,
    classNames: ["a", "b"],
    image: null,
    sourceFiles: null,
    featureNames: null,
    features: null,
    sourceIndex: [10, 11, 12, 13, 14, 15],
    label: [0, 1, 0, 1, 0, 1],
    predicted: [0, 0, 0, 1, 1, 1],
    runs: [],
    scores: [{ type: "S", id: "S", columns: ["S/S/mean", "S/S/region"] }],
    columns: [
      {
        key: "S/S/mean",
        label: "S",
        kind: "number",
        score: "S",
        description: "",
        values: [0.5, null, 0.2, 0.5, 0.9, 0.1],
      },
      {
        key: "noise",
        label: "noise",
        kind: "category",
        score: "",
        description: "",
        values: ["", "a", "", "", "b", ""],
      },
    ],
    problems: [],
    tags: [{ sourceIndex: 12, tag: "mislabelled", newLabel: null, time: "t" }],
    readOnly: false,
  };
}

describe("ExploreState", () => {
  it("sorts by a score both ways, missing values last, ties in position order", () => {
    const state = new ExploreState(table());
    state.sort = { key: "S/S/mean", direction: 1 };
    state.update();
    expect(Array.from(state.view)).toEqual([5, 2, 0, 3, 4, 1]);
    state.sort = { key: "S/S/mean", direction: -1 };
    state.update();
    expect(Array.from(state.view)).toEqual([4, 0, 3, 2, 5, 1]);
  });

  it("the data map's brush keeps the samples inside its box (bounds in either order, missing values out)", () => {
    const state = new ExploreState(table());
    // x = S (0.5, null, 0.2, 0.5, 0.9, 0.1), y = the same column: the box 0.15…0.5 on both
    const mask = state.inBox("S/S/mean", "S/S/mean", [0.5, 0.15], [0.15, 0.5]);
    expect(Array.from(mask)).toEqual([1, 0, 1, 1, 0, 0]);
    state.filters.brushed = mask;
    state.sort = { key: "S/S/mean", direction: -1 };
    state.update();
    expect(Array.from(state.view)).toEqual([0, 3, 2]);
    state.filters.label = 1;
    state.update();
    expect(Array.from(state.view)).toEqual([3]);
    state.filters.brushed = null;
    state.update();
    expect(Array.from(state.view)).toEqual([3, 5, 1]);
  });

  it("filters by label, prediction, tag and category, the empty category values included", () => {
    const state = new ExploreState(table());
    state.filters.label = 0;
    state.filters.predicted = 0;
    state.update();
    expect(Array.from(state.view)).toEqual([0, 2]);
    state.filters.tag = "mislabelled";
    state.update();
    expect(Array.from(state.view)).toEqual([2]);
    state.filters = {
      label: -1,
      predicted: -1,
      tag: "untagged",
      categories: new Map([["noise", ANY_VALUE]]),
      brushed: null,
    };
    state.update();
    expect(Array.from(state.view)).toEqual([1, 4]);
    state.filters.categories.set("noise", NO_VALUE);
    state.update();
    expect(Array.from(state.view)).toEqual([0, 3, 5]);
    state.filters.categories.set("noise", "b");
    state.update();
    expect(Array.from(state.view)).toEqual([4]);
  });

  it("sorts by tag as tags change (that order is never cached)", () => {
    const state = new ExploreState(table());
    state.sort = { key: "tag", direction: -1 };
    state.update();
    expect(state.view[0]).toBe(2);
    state.setTags([{ sourceIndex: 15, tag: "relabel", newLabel: "a", time: "t" }]);
    state.update();
    expect(state.view[0]).toBe(5);
    expect(state.tagText(5)).toBe("relabel → a");
  });
});
