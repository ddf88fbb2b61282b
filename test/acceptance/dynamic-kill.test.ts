import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compareResults } from "../../scripts/results-compare.mjs";
import { BIN, runCli } from "../support/cli.js";
import { waitFor } from "../support/processes.js";

/**
 * A user's dynamic sampler with keyword arguments, defined here and loaded by the built CLI from a
 * project's conf/curriculum/sampling/ (module + class): a run SIGKILLed after a checkpoint and rerun
 * ends with the files of the run that went straight through, the sampler's state in every checkpoint.
 */
const SAMPLER = `
import { AbstractSampler } from ${JSON.stringify(resolve("dist/index.js"))};

export class HardHalf extends AbstractSampler {
  static defaults = { fraction: 0.5, boost: 1.5 };
  begin(setup) { super.begin(setup); this.losses = new Array(setup.size).fill(0); this.passes = 0; }
  sample(n) {
    this.passes += 1;
    const order = this.setup.rng.permutation(n);
    return order.slice(0, Math.round(this.args.fraction * n));
  }
  update(positions, outputs) { positions.forEach((p, i) => { this.losses[p] = outputs.losses[i]; }); }
  weights(positions) { return Float32Array.from(positions, (p) => (this.losses[p] > 1 ? this.args.boost : 1)); }
  state() { return { losses: this.losses, passes: this.passes }; }
  load(state) { this.losses = state.losses; this.passes = state.passes; }
}
`;
const CONFIG =
  "id: HardHalf\nshort: HH\nmodule: ./sampling/hard-half.mjs\nclass: HardHalf\nfraction: 0.4\nboost: 2\n";
const ARGS = [
  "train",
  "curriculum=Dynamic",
  "curriculum/sampling=HardHalf",
  "iterations=10",
  "seed=1",
  "engine=wasm",
];

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "curricula-dynamic-kill-"));
  roots.push(dir);
  mkdirSync(join(dir, "sampling"));
  mkdirSync(join(dir, "conf", "curriculum", "sampling"), { recursive: true });
  writeFileSync(join(dir, "sampling", "hard-half.mjs"), SAMPLER);
  writeFileSync(join(dir, "conf", "curriculum", "sampling", "HardHalf.yaml"), CONFIG);
  return dir;
}

function runFolder(cwd: string): string {
  const training = join(cwd, "results", "default", "training");
  const [name] = existsSync(training) ? readdirSync(training).filter((n) => n.startsWith("Digits_")) : [];
  return name ? join(training, name) : "";
}

describe("a user's dynamic sampler through the CLI, killed and resumed", () => {
  it("SIGKILLed after its third checkpoint, the rerun ends byte-identical to an uninterrupted run", async () => {
    const straight = project();
    const done = runCli(ARGS, straight);
    expect(done.code, done.stderr).toBe(0);
    const log = readFileSync(join(runFolder(straight), "training.log"), "utf8");
    expect(log).toContain("curriculum: Dynamic, sampler HardHalf(fraction=0.4, boost=2)");

    const killed = project();
    const child = spawn(process.execPath, [BIN, "--no-progress", ...ARGS], {
      cwd: killed,
      detached: true,
      stdio: "ignore",
    });
    const closed = new Promise((r) => child.on("close", r));
    const checkpoint = () => join(runFolder(killed), "epoch_3", "trainer_state.json");
    await waitFor(() => runFolder(killed) !== "" && existsSync(checkpoint()), 60_000, "the third checkpoint");
    process.kill(-(child.pid as number), "SIGKILL");
    await closed;
    expect(existsSync(join(runFolder(killed), "metrics.csv"))).toBe(false);
    const state = JSON.parse(readFileSync(checkpoint(), "utf8"));
    expect(state.sampler.sampler.passes).toBe(3);
    expect(state.sampler.rng).toHaveLength(4);

    const resumed = runCli(ARGS, killed);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(join(runFolder(killed), "training.log"), "utf8")).toContain("Resuming");
    expect(compareResults(join(straight, "results"), join(killed, "results")).differences).toEqual([]);
  }, 180_000);
});
