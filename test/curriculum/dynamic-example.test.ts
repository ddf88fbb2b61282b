import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trainRunWith } from "../../src/assembly/train-run.js";
import { composeGrid } from "../../src/config/compose.js";
import { runName } from "../../src/config/naming.js";
import { readCsv } from "../../src/util/csv.js";
import { fakeDeps } from "../training/fakes.js";
import { differingFiles, tempDir } from "../training/helpers.js";

let projectDir: string;
const runs = tempDir("dynamic-example");
const quiet = { log: null, progress: false } as const;

beforeAll(() => {
  // examples/dynamic-sampler laid out as a project: the module under sampling/, the config under
  // conf/curriculum/sampling/, the module importing curricula from this checkout.
  projectDir = mkdtempSync(join(tmpdir(), "curricula-dynamic-example-"));
  mkdirSync(join(projectDir, "sampling"));
  mkdirSync(join(projectDir, "conf", "curriculum", "sampling"), { recursive: true });
  const source = readFileSync(resolve("examples/dynamic-sampler/self-paced.js"), "utf8");
  expect(source).toContain('from "curricula"');
  writeFileSync(
    join(projectDir, "sampling", "self-paced.js"),
    source.replace('from "curricula"', `from "${resolve("src/curriculum/index.ts")}"`),
  );
  copyFileSync(
    resolve("examples/dynamic-sampler/SelfPaced.yaml"),
    join(projectDir, "conf", "curriculum", "sampling", "SelfPaced.yaml"),
  );
});

afterAll(() => {
  rmSync(projectDir, { recursive: true, force: true });
  rmSync(runs, { recursive: true, force: true });
});

async function compose(overrides: string[]) {
  const [point] = await composeGrid({
    cwd: projectDir,
    log: null,
    overrides: ["progress_bar=false", `results_dir=${runs}`, ...overrides],
  });
  if (!point) throw new Error("empty grid");
  return point.config;
}

describe("curriculum=Dynamic from configs (examples/dynamic-sampler, docs/tutorials/dynamic-sampler.md)", () => {
  it("the packaged InfoBatch composes with no pacing and no score, and names its run", async () => {
    const config = await compose(["curriculum=Dynamic", "curriculum/sampling=InfoBatch"]);
    expect(config.curriculum.sampling).toEqual({
      id: "InfoBatch",
      short: "IB",
      prune_ratio: 0.5,
      delta: 0.875,
    });
    expect(config.curriculum.pacing.id).toBe("None");
    expect(runName(config)).toContain("_D_IB_None_None_1_0_");
  });

  it("a dynamic sampler without curriculum=Dynamic is a clear error that says so", async () => {
    await expect(compose(["curriculum/sampling=InfoBatch"])).rejects.toThrow(
      /curriculum=None does not take curriculum\/sampling=InfoBatch \(set curriculum=Dynamic/,
    );
  });

  it("a partial Dynamic curriculum is a clear error", async () => {
    await expect(
      compose(["curriculum=Dynamic", "curriculum/sampling=InfoBatch", "curriculum/pacing=Linear"]),
    ).rejects.toThrow(/curriculum=Dynamic takes no curriculum\/pacing/);
  });

  it("the example's SelfPaced sampler trains with its config's keyword arguments, saves its state and reruns byte for byte", async () => {
    const config = await compose([
      "curriculum=Dynamic",
      "curriculum/sampling=SelfPaced",
      `curriculum.sampling.module=${join(projectDir, "sampling", "self-paced.js")}`,
      "iterations=5",
    ]);
    const lines: string[] = [];
    const dir = join(runs, "self-paced");
    await trainRunWith(fakeDeps(), config, { runDir: dir, log: (l) => lines.push(l), progress: false });
    expect(lines).toContain(
      "curriculum: Dynamic, sampler SelfPaced(threshold=0.5, growth=1.5, min_fraction=0.3)",
    );
    const sizes = lines
      .filter((l) => l.startsWith("dynamic sampling: pass"))
      .map((l) => Number(/has (\d+) of/.exec(l)?.[1]));
    // the whole set first, then never fewer than 30% of the 90 samples
    expect(sizes[0]).toBe(90);
    for (const s of sizes.slice(1)) expect(s).toBeGreaterThanOrEqual(27);
    const seen = readCsv(join(dir, "metrics.csv")).rows.map((r) => Number(r.samples_seen));
    expect(seen.at(-1)).toBe(sizes.reduce((a, b) => a + b, 0));
    const state = JSON.parse(readFileSync(join(dir, "epoch_5", "trainer_state.json"), "utf8"));
    expect(state.sampler.sampler.threshold).toBeCloseTo(0.5 * 1.5 ** 4, 12);
    const again = join(runs, "self-paced-again");
    await trainRunWith(fakeDeps(), config, { runDir: again, ...quiet });
    expect(differingFiles(dir, again)).toEqual([]);
  });
});
