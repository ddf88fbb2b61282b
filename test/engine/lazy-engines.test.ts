/**
 * Each engine's folder is loaded only when that engine is used: a process that trains, saves, loads
 * and multiplies on torch never loads TensorFlow.js (whose core registers `globalThis._tfengine` as
 * it loads); the same process on wasm does, which shows the check can fail.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, expect, it } from "vitest";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";

const ROOT = resolve(import.meta.dirname, "../..");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const SCRIPT = `
const engine = await import(process.env.ENGINE_MODULE);
const info = await engine.initEngine({ engine: process.env.USE_ENGINE, threads: 1 });
const spec = { type: "FFNN", inputShape: [4], outputDim: 2, params: { hidden_sizes: [3], dropout: 0.5 } };
const net = engine.createNetwork(spec, { type: "Adam", learningRate: 0.01 }, 1);
const x = Float32Array.from({ length: 8 }, (_, i) => i / 8);
net.trainStep(x, 2, Int32Array.from([0, 1]));
net.forward(x, 2);
await net.save(process.env.SAVE_DIR, { optimizer: true });
const again = await engine.loadNetwork(process.env.SAVE_DIR, { type: "Adam", learningRate: 0.01 });
await again.loadOptimizerState(process.env.SAVE_DIR);
again.forward(x, 2);
engine.matMulTransposed(x, 2, x, 2, 4);
engine.matrixPrimitive();
console.log(JSON.stringify({ engine: info.engine, tensorflowLoaded: globalThis._tfengine !== undefined }));
`;

function runOn(engine: "wasm" | "torch"): { engine: string; tensorflowLoaded: boolean } {
  const dir = mkdtempSync(join(tmpdir(), "curricula-lazy-"));
  dirs.push(dir);
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", SCRIPT], {
    encoding: "utf8",
    env: {
      ...process.env,
      ENGINE_MODULE: pathToFileURL(join(ROOT, "dist", "engine", "index.js")).href,
      USE_ENGINE: engine,
      SAVE_DIR: join(dir, "net"),
    },
    timeout: 120_000,
  });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split("\n").at(-1) as string);
}

describeWith(torchEngine, "engines load lazily", () => {
  it("a process on the torch engine never loads TensorFlow.js; one on wasm does", () => {
    expect(runOn("torch")).toEqual({ engine: "torch", tensorflowLoaded: false });
    expect(runOn("wasm")).toEqual({ engine: "wasm", tensorflowLoaded: true });
  }, 240_000);
});
