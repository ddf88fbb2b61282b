import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { register, runPace } from "../../src/cli/commands/pace.js";
import { previewPace } from "../../src/curriculum/pace-preview.js";
import { CurriculaError } from "../../src/util/errors.js";
import { tempDir } from "./fakes.js";

const TABLE: Record<string, Record<number, number>> = {
  Exponential: { 0: 500, 1: 500, 10: 500, 25: 503, 49: 909, 50: 1000 },
  Logarithmic: { 0: 500, 1: 804, 10: 919, 25: 965, 49: 998, 50: 1000 },
  OneStep: { 0: 500, 1: 500, 10: 500, 25: 500, 49: 500, 50: 1000 },
  Linear: { 0: 500, 1: 510, 10: 600, 25: 750, 49: 990, 50: 1000 },
  Quadratic: { 0: 500, 1: 500, 10: 520, 25: 625, 49: 980, 50: 1000 },
  Root: { 0: 500, 1: 570, 10: 723, 25: 853, 49: 994, 50: 1000 },
};

/** Runs `curricula pace ...` through commander and returns what it printed on stdout. */
async function cli(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  register(program);
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(["node", "curricula", "pace", ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

const base = [
  "--initial-size",
  "0.5",
  "--final-iteration",
  "0.5",
  "--iterations",
  "100",
  "--dataset-size",
  "1000",
];

afterEach(() => vi.restoreAllMocks());

describe("curricula pace", () => {
  for (const [name, expected] of Object.entries(TABLE)) {
    it(`${name} --json matches the reference table (s=0.5, f=0.5, T=100, N=1000)`, async () => {
      const sizes = JSON.parse(await cli([name, ...base, "--json"])) as number[];
      expect(sizes).toHaveLength(101);
      for (const [i, size] of Object.entries(expected))
        expect(sizes[Number(i)], `${name} at ${i}`).toBe(size);
      expect(sizes[100]).toBe(1000);
    });
  }

  it("prints an iteration/dataset_size table without --json", async () => {
    const out = await cli([
      "Linear",
      "--initial-size",
      "0.2",
      "--final-iteration",
      "0.8",
      "--iterations",
      "5",
      "--dataset-size",
      "100",
    ]);
    expect(out.split("\n").filter(Boolean)).toEqual([
      "iteration  dataset_size",
      "        0  20",
      "        1  40",
      "        2  60",
      "        3  80",
      "        4  100",
      "        5  100",
    ]);
  });

  it("gives the reference's messages for invalid sizes, as runtime errors (exit 1)", async () => {
    const bad = (s: string, f: string) =>
      cli([
        "Linear",
        "--initial-size",
        s,
        "--final-iteration",
        f,
        "--iterations",
        "10",
        "--dataset-size",
        "100",
      ]);
    await expect(bad("0", "0.5")).rejects.toThrow("Initial size must be in (0, 1], got 0");
    await expect(bad("1.2", "0.5")).rejects.toThrow("Initial size must be in (0, 1], got 1.2");
    await expect(bad("0.5", "2")).rejects.toThrow("Final iteration must be in [0, 1], got 2");
    const error = await bad("0.5", "-1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CurriculaError);
    expect((error as CurriculaError).exitCode).toBe(1);
  });

  it("a malformed number or unknown pacing is a usage error (exit 2)", async () => {
    const notNumber = await cli(["Linear", ...base.slice(0, 1), "half", ...base.slice(2)]).catch(
      (e: unknown) => e,
    );
    expect(notNumber).toBeInstanceOf(CurriculaError);
    expect((notNumber as CurriculaError).exitCode).toBe(2);
    expect(String(notNumber)).toMatch(/--initial-size: expected a number, got "half"/);
    const unknown = await runPace("Nope", {
      initialSize: 0.5,
      finalIteration: 0.5,
      iterations: 3,
      datasetSize: 10,
    }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(CurriculaError);
    expect((unknown as CurriculaError).exitCode).toBe(2);
    expect(String(unknown)).toMatch(/unknown pacing "Nope".*built in: Exponential/);
  });

  it("final_iteration 0 prints the full set at every iteration", async () => {
    const sizes = JSON.parse(
      await cli([
        "Exponential",
        "--initial-size",
        "0.3",
        "--final-iteration",
        "0",
        "--iterations",
        "4",
        "--dataset-size",
        "50",
        "--json",
      ]),
    );
    expect(sizes).toEqual([50, 50, 50, 50, 50]);
  });

  it("takes extra arguments and local configs, and writes a plot", async () => {
    const cwd = tempDir();
    const printed: string[] = [];
    const sizes = await runPace(
      "Polynomial",
      {
        initialSize: 0.5,
        finalIteration: 0.5,
        iterations: 100,
        datasetSize: 1000,
        arg: ["degree=2"],
        json: true,
      },
      (t) => printed.push(t),
      cwd,
    );
    expect(sizes[10]).toBe(520);
    expect(JSON.parse(printed.join(""))).toEqual(sizes);

    mkdirSync(join(cwd, "conf", "curriculum", "pacing"), { recursive: true });
    writeFileSync(
      join(cwd, "conf", "curriculum", "pacing", "Cubic.yaml"),
      "id: Cubic\ntype: Polynomial\ninitial_size: ???\nfinal_iteration: ???\ndegree: 3\n",
    );
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const cubic = await runPace(
      "Cubic",
      {
        initialSize: 0.5,
        finalIteration: 0.5,
        iterations: 100,
        datasetSize: 1000,
        plot: join(cwd, "out", "cubic.png"),
      },
      () => {},
      cwd,
    );
    stderr.mockRestore();
    expect(cubic[25]).toBe(562);
    expect(existsSync(join(cwd, "out", "cubic.svg"))).toBe(true);
    expect(existsSync(join(cwd, "out", "cubic.png"))).toBe(true);
  });
});

describe("previewPace (the logic behind curricula pace)", () => {
  it("computes the schedule from a built-in type with extra arguments, printing nothing", async () => {
    const write = vi.spyOn(process.stdout, "write");
    const { sizes, plot } = await previewPace("Polynomial", {
      initialSize: 0.5,
      finalIteration: 0.5,
      iterations: 100,
      datasetSize: 1000,
      args: { degree: "2" },
    });
    expect(write).not.toHaveBeenCalled();
    write.mockRestore();
    expect(sizes[10]).toBe(520);
    expect(plot).toBeNull();
  });
});
