import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { PacingConfig } from "../../src/config/schema.js";
import {
  AbstractPace,
  Adaptive,
  createPacing,
  PACING_TYPES,
  Polynomial,
  pacingClass,
  resolvePacing,
} from "../../src/curriculum/index.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { tempDir } from "./fakes.js";

/** Reference table (§8): s = 0.5, f = 0.5, T = 100, N = 1000. */
const ITERATIONS = [0, 1, 10, 25, 49, 50, 101];
const TABLE: Record<string, number[]> = {
  Exponential: [500, 500, 500, 503, 909, 1000, 1000],
  Logarithmic: [500, 804, 919, 965, 998, 1000, 1000],
  OneStep: [500, 500, 500, 500, 500, 1000, 1000],
  Linear: [500, 510, 600, 750, 990, 1000, 1000],
  Quadratic: [500, 500, 520, 625, 980, 1000, 1000],
  Root: [500, 570, 723, 853, 994, 1000, 1000],
};

const cfg = (type: string, s: number, f: number, extra: Record<string, unknown> = {}): PacingConfig => ({
  id: type,
  type,
  initial_size: s,
  final_iteration: f,
  ...extra,
});

describe("pacing functions", () => {
  for (const [type, expected] of Object.entries(TABLE)) {
    it(`${type} matches the reference table at every listed iteration`, () => {
      const pacing = createPacing(cfg(type, 0.5, 0.5), 100, 1000);
      expect(ITERATIONS.map((i) => pacing.getDatasetSize(i))).toEqual(expected);
    });
  }

  it("Polynomial with degree 1, 2, 0.5 equals Linear, Quadratic, Root", () => {
    for (const [degree, type] of [
      [1, "Linear"],
      [2, "Quadratic"],
      [0.5, "Root"],
    ] as const) {
      const poly = createPacing(cfg("Polynomial", 0.3, 0.7, { degree }), 37, 523);
      expect(poly.schedule(), type).toEqual(createPacing(cfg(type, 0.3, 0.7), 37, 523).schedule());
    }
  });

  it("rejects an initial size outside (0, 1] with the reference's message", () => {
    for (const s of [0, -0.1, 1.5]) {
      expect(() => createPacing(cfg("Linear", s, 0.5), 10, 100)).toThrow(
        `Initial size must be in (0, 1], got ${s}`,
      );
    }
  });

  it("rejects a final iteration outside [0, 1] with the reference's message", () => {
    for (const f of [-0.5, 1.01]) {
      expect(() => createPacing(cfg("Linear", 0.5, f), 10, 100)).toThrow(
        `Final iteration must be in [0, 1], got ${f}`,
      );
    }
  });

  // Every registered pacing type goes through the same contract checks.
  for (const type of PACING_TYPES) {
    it(`${type}: final_iteration 0 means the full set from the start`, () => {
      const pacing = createPacing(cfg(type, 0.2, 0), 10, 250);
      expect(pacing.schedule()).toEqual(Array(11).fill(250));
    });

    it(`${type}: initial_size 1 means the full set from the start`, () => {
      expect(createPacing(cfg(type, 1, 0.5), 10, 250).schedule()).toEqual(Array(11).fill(250));
    });

    it(`${type}: integer sizes, non-decreasing, capped at N, starting at trunc(N·s), full from F on`, () => {
      for (const [s, f, t, n] of [
        [0.2, 0.8, 5, 1437],
        [0.33, 0.5, 101, 7],
        [0.05, 1, 40, 60000],
        [0.5, 0.3, 7, 1000],
      ] as const) {
        const sizes = createPacing(cfg(type, s, f), t, n).schedule();
        expect(sizes).toHaveLength(t + 1);
        expect(sizes[0]).toBe(Math.trunc(n * s));
        for (let i = 0; i < sizes.length; i++) {
          expect(Number.isInteger(sizes[i])).toBe(true);
          expect(sizes[i]).toBeLessThanOrEqual(n);
          if (i > 0) expect(sizes[i]).toBeGreaterThanOrEqual(sizes[i - 1] as number);
        }
        const full = Math.ceil(f * t);
        expect(sizes[full], `${type} s=${s} f=${f} T=${t} N=${n}`).toBe(n);
        if (full > 0) expect(sizes[full - 1]).toBeLessThan(n);
      }
    });
  }

  it("rejects unknown and extra arguments, naming the key", () => {
    expect(() => createPacing(cfg("Nope", 0.5, 0.5), 10, 100)).toThrow(/unknown pacing "Nope"/);
    expect(() => createPacing(cfg("Linear", 0.5, 0.5, { degree: 2 }), 10, 100)).toThrow(
      /curriculum\.pacing\.degree: not an argument of Linear/,
    );
    expect(() => createPacing(cfg("Polynomial", 0.5, 0.5, { degree: "???" }), 10, 100)).toThrow(
      /curriculum\.pacing\.degree/,
    );
    expect(() => createPacing(cfg("Polynomial", 0.5, 0.5, { degree: -1 }), 10, 100)).toThrow(
      /Degree must be positive|positive number/,
    );
  });

  it("uses id as type when type is missing", () => {
    const pacing = createPacing({ id: "Quadratic", initial_size: 0.5, final_iteration: 0.5 }, 100, 1000);
    expect(pacing.getDatasetSize(10)).toBe(520);
  });
});

describe("Adaptive pacing", () => {
  const make = (patience: number, minImprovement: number, buckets = 4) =>
    new Adaptive(
      { initialSize: 0.2, finalIteration: 0.8, totalIterations: 10, datasetSize: 100 },
      { patience, min_improvement: minImprovement, buckets },
    );

  it("grows by one bucket after `patience` evaluations without improvement", () => {
    const p = make(2, 0.01);
    expect(p.bucketSize).toBe(20);
    expect(p.getDatasetSize(1)).toBe(20);
    p.observe(0.5); // first value sets the best
    p.observe(0.505); // not better by more than 0.01
    expect(p.getDatasetSize(2)).toBe(20);
    p.observe(0.509); // second stall → grow
    expect(p.grown).toBe(1);
    expect(p.getDatasetSize(3)).toBe(40);
    p.observe(0.6); // improvement resets the wait
    p.observe(0.6);
    expect(p.getDatasetSize(4)).toBe(40);
  });

  it("reaches the full set at F = f·T at the latest, and never exceeds N", () => {
    const p = make(1, 0);
    for (let i = 0; i < 20; i++) p.observe(0.1);
    expect(p.getDatasetSize(7)).toBe(100);
    const q = make(5, 0);
    expect(q.getDatasetSize(7)).toBe(20);
    expect(q.getDatasetSize(8)).toBe(100);
  });

  it("restores its state exactly", () => {
    const p = make(1, 0);
    p.observe(0.3);
    p.observe(0.2);
    const q = make(1, 0);
    q.setState(JSON.parse(JSON.stringify(p.getState())));
    q.observe(0.25);
    p.observe(0.25);
    expect(q.getState()).toEqual(p.getState());
    expect(q.getDatasetSize(3)).toBe(p.getDatasetSize(3));
  });
});

describe("packaged pacing configs", () => {
  const dir = resolve("configs/curriculum/pacing");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

  it("exist for every built-in type and for None", () => {
    expect(files.map((f) => f.replace(/\.yaml$/, "")).sort()).toEqual([...PACING_TYPES, "None"].sort());
  });

  for (const file of files) {
    it(`${file} mirrors its class's constructor arguments`, () => {
      const config = readYaml<Record<string, unknown>>(join(dir, file));
      const name = file.replace(/\.yaml$/, "");
      expect(config.id).toBe(name);
      if (name === "None") {
        expect(config).toEqual({ id: "None", type: "None", initial_size: 1, final_iteration: 0 });
        return;
      }
      expect(config.type).toBe(name);
      expect(config.initial_size).toBe("???");
      expect(config.final_iteration).toBe("???");
      const cls = pacingClass(name);
      expect(cls).toBeDefined();
      const extra = Object.fromEntries(
        Object.entries(config).filter(
          ([k]) => !["id", "type", "initial_size", "final_iteration"].includes(k),
        ),
      );
      expect(extra).toEqual({ ...cls?.defaults });
      // and the filled-in config builds
      const built = createPacing(
        { ...config, initial_size: 0.5, final_iteration: 0.5 } as PacingConfig,
        10,
        100,
      );
      expect(built).toBeInstanceOf(AbstractPace);
    });
  }
});

describe("custom pacing classes", () => {
  it("load the tutorial's Staircase from the module named in the config, with its extra arguments", async () => {
    const dir = tempDir();
    const abstractUrl = new URL("../../src/curriculum/pacing/abstract-pace.ts", import.meta.url).href;
    // The module of docs/tutorials/custom-pacing.md, verbatim except that the package import points
    // at the source (the test runner's loader resolves it).
    const tutorial = readFileSync(resolve("docs/tutorials/custom-pacing.md"), "utf8");
    const code = /```js\n([\s\S]*?)```/.exec(tutorial)?.[1];
    expect(code).toContain("export class Staircase extends AbstractPace");
    writeFileSync(
      join(dir, "staircase.mjs"),
      (code as string).replace('from "curricula"', `from ${JSON.stringify(abstractUrl)}`),
    );
    const config = cfg("Staircase", 0.5, 1, { module: "./staircase.mjs", steps: 4 });
    const pacing = await resolvePacing(config, 8, 100, dir);
    expect(pacing.schedule()).toEqual([50, 50, 62, 62, 75, 75, 87, 87, 100]);
    await expect(
      resolvePacing(cfg("Staircase", 0.5, 1, { module: "./staircase.mjs", stairs: 4 }), 8, 100, dir),
    ).rejects.toThrow(/curriculum\.pacing\.stairs/);
    await expect(
      resolvePacing(cfg("Missing", 0.5, 1, { module: "./staircase.mjs" }), 8, 100, dir),
    ).rejects.toThrow(/no exported pacing class "Missing"/);
    await expect(resolvePacing(cfg("X", 0.5, 1, { module: "./nope.mjs" }), 8, 100, dir)).rejects.toThrow(
      /curriculum\.pacing\.module: cannot import/,
    );
  });

  it("Polynomial is exported for subclassing", () => {
    class Cubic extends Polynomial {
      constructor(o: ConstructorParameters<typeof Polynomial>[0]) {
        super(o, { degree: 3 });
      }
    }
    expect(
      new Cubic({
        initialSize: 0.5,
        finalIteration: 0.5,
        totalIterations: 100,
        datasetSize: 1000,
      }).getDatasetSize(25),
    ).toBe(562);
  });
});
