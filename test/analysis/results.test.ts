import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";
import { parseRunName } from "../../src/config/naming.js";
import { escapeHtml, inlineSvg } from "../../src/plots/html.js";
import { crc32, encodePng, imageToPixels } from "../../src/plots/png.js";
import {
  conditionOf,
  extremesPerClass,
  formatMeanStd,
  groupRunsByCondition,
  orderMetrics,
  type RunData,
  readMatrix,
} from "../../src/report/index.js";
import { fixtureRunName } from "./fixture.js";

const root = mkdtempSync(join(tmpdir(), "curricula-results-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function fakeRun(name: string, condition?: string): RunData {
  const fields = parseRunName(name);
  return {
    name,
    dir: name,
    config: condition ? { curriculum: { type: condition } } : null,
    fields,
    condition: conditionOf(condition ? { curriculum: { type: condition } } : null, fields),
    seed: fields.seed,
    groupKey: name.replace(/_[^_]+$/, "_#"),
    finished: true,
    metrics: null,
    pace: null,
    test: null,
    testOutputs: null,
    trackingMetric: "accuracy",
    trainingType: fields.training_type,
  };
}

describe("grouping runs", () => {
  test("conditions come from the config, else from the short code in the name", () => {
    expect(conditionOf({ curriculum: { type: "AntiCurriculum" } }, null)).toBe("AntiCurriculum");
    expect(conditionOf(null, parseRunName(fixtureRunName("RandomCurriculum", 1)))).toBe("RandomCurriculum");
    expect(conditionOf(null, parseRunName(fixtureRunName("Curriculum", 1)))).toBe("Curriculum");
    expect(conditionOf(null, parseRunName(fixtureRunName("None", 1)))).toBe("Baseline");
  });

  test("runs differing only in seed form one group; labels show only what differs", () => {
    const names = [
      ...[1, 2].map((s) => fixtureRunName("None", s)),
      ...[1, 2].map((s) => fixtureRunName("Curriculum", s)),
      ...[1, 2].map((s) => fixtureRunName("Curriculum", s).replace("_Linear_", "_Root_")),
      fixtureRunName("AntiCurriculum", 1),
    ];
    const groups = groupRunsByCondition(names.map((n) => fakeRun(n)));
    expect(groups.map((g) => [g.label, g.runs.length])).toEqual([
      ["Curriculum · Linear", 2],
      ["Curriculum · Root", 2],
      ["AntiCurriculum · Linear", 1],
      ["Baseline", 2],
    ]);
    // two groups of one condition get different shades
    expect(groups[0]?.color).not.toBe(groups[1]?.color);
  });

  test("orderMetrics puts the tracking metric first and losses last", () => {
    expect(orderMetrics(["loss", "f1", "accuracy", "uar"], "uar")).toEqual(["uar", "f1", "accuracy", "loss"]);
  });

  test("formatMeanStd uses the sample std and omits ± for one value", () => {
    expect(formatMeanStd([0.8, 1.0])).toBe("0.9000 ± 0.1414");
    expect(formatMeanStd([0.5])).toBe("0.5000");
    expect(formatMeanStd([])).toBe("–");
  });
});

describe("reading files", () => {
  test("readMatrix accepts the pandas layout and a plain square one", () => {
    const pandas = join(root, "pandas.csv");
    writeFileSync(pandas, ",a,b\na,1,0.5\nb,0.5,1\n");
    expect(readMatrix(pandas, "m")).toMatchObject({
      rowLabels: ["a", "b"],
      columnLabels: ["a", "b"],
      matrix: [
        [1, 0.5],
        [0.5, 1],
      ],
    });
    const ours = join(root, "ours.csv");
    writeFileSync(ours, "score,CELoss,Random\nCELoss,1,0.1\nRandom,0.1,1\n");
    expect(readMatrix(ours, "m")).toMatchObject({
      rowLabels: ["CELoss", "Random"],
      columnLabels: ["CELoss", "Random"],
    });
    const plain = join(root, "plain.csv");
    writeFileSync(plain, "a,b\n1,-0.25\n-0.25,1\n");
    expect(readMatrix(plain, "m")).toMatchObject({
      rowLabels: ["a", "b"],
      matrix: [
        [1, -0.25],
        [-0.25, 1],
      ],
    });
  });
});

describe("thumbnails", () => {
  test("extremesPerClass picks the k lowest and highest ranks of each class without repeats", () => {
    const ranks = [0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 1.0];
    const classes = ["b", "a", "a", "b", "a", "a", "b"];
    expect(extremesPerClass(ranks, classes, 2)).toEqual([
      { label: "a", easiest: [1, 5], hardest: [4, 2] },
      { label: "b", easiest: [3, 0], hardest: [6] },
    ]);
  });

  test("encodePng writes a valid greyscale PNG whose pixels inflate back", () => {
    const pixels = Uint8Array.from([0, 64, 128, 255, 1, 2]);
    const png = encodePng(pixels, 3, 2, 1);
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");
    expect(view.getUint32(16)).toBe(3);
    expect(view.getUint32(20)).toBe(2);
    expect(png[25]).toBe(0); // colour type greyscale
    const ihdrCrc = view.getUint32(29);
    expect(ihdrCrc).toBe(crc32(png.subarray(12, 29)));
    const idatLength = view.getUint32(33);
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    expect([...raw]).toEqual([0, 0, 64, 128, 0, 255, 1, 2]);
    expect(() => encodePng(pixels, 2, 2, 1)).toThrow(/expected 2×2×1 bytes, got 6/);
  });

  test("crc32 matches the IEEE check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  test("imageToPixels min–max scales features to 0..255", () => {
    const { pixels, channels } = imageToPixels([-1, 0, 1, 3], [2, 2, 1]);
    expect(channels).toBe(1);
    expect([...pixels]).toEqual([0, 64, 128, 255]);
  });
});

describe("html helpers", () => {
  test("escapeHtml escapes markup characters", () => {
    expect(escapeHtml(`<a href="x">&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  });

  test("inlineSvg prefixes ids and their references", () => {
    const svg = `<?xml version="1.0"?><svg><clipPath id="c1"/><g clip-path="url(#c1)"><use href="#c1"/></g></svg>`;
    expect(inlineSvg(svg, "f2")).toBe(
      `<svg><clipPath id="f2-c1"/><g clip-path="url(#f2-c1)"><use href="#f2-c1"/></g></svg>`,
    );
  });
});

describe("per-seed scores in the report", () => {
  test("folds <id>-s<seed> into the ensemble <id> of the same type and keeps the rest", async () => {
    const { splitSeedScores } = await import("../../src/report/report.js");
    const scores = [
      { id: "CELoss", type: "CELoss" },
      { id: "CELoss-s1", type: "CELoss" },
      { id: "CELoss-s2", type: "CELoss" },
      { id: "Random-s1", type: "Random" },
      { id: "FirstIteration", type: "FirstIteration" },
    ];
    const { primary, members } = splitSeedScores(scores);
    expect(primary.map((s) => s.id)).toEqual(["CELoss", "Random-s1", "FirstIteration"]);
    expect(members.get(scores[0] as (typeof scores)[0])?.map((s) => s.id)).toEqual([
      "CELoss-s1",
      "CELoss-s2",
    ]);
  });
});
