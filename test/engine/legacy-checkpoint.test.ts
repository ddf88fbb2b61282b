/**
 * Older runs' tfjs-format checkpoints (`model.json` + `weights.bin`) on the default engine: an intact
 * one loads with the same logits; a short or cut `weights.bin` is one DataError naming the file and
 * what was expected, never a bare RangeError or silently wrong weights.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  createNetwork,
  initEngine,
  loadNetwork,
  type NetworkSpec,
  readModelCheckpoint,
} from "../../src/engine/index.js";
import { DataError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { expectClose } from "../support/assert.js";
import { writeLegacyFfnn } from "../support/legacy-checkpoint.js";

const SPEC: NetworkSpec = { type: "FFNN", inputShape: [12], outputDim: 4, params: { hidden_sizes: [16, 8] } };
let dir: string;
let legacy: string;
let probe: Float32Array;
let want: Float32Array;

beforeAll(async () => {
  await initEngine({ engine: "wasm" });
  dir = mkdtempSync(join(tmpdir(), "curricula-legacy-"));
  const net = createNetwork(SPEC, null, 3);
  await net.save(join(dir, "new"));
  const rng = new Rng(4);
  probe = Float32Array.from({ length: 3 * 12 }, () => rng.normal());
  want = net.forward(probe, 3).logits;
  const { params } = await readModelCheckpoint(join(dir, "new"));
  legacy = writeLegacyFfnn(join(dir, "legacy"), SPEC, params, net.getRngState().dropout);
  net.dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the legacy checkpoint whose weights.bin keeps only its first `bytes` bytes. */
function cut(bytes: number): string {
  const at = join(dir, `cut-${bytes}`);
  mkdirSync(at, { recursive: true });
  writeFileSync(join(at, "model.json"), readFileSync(join(legacy, "model.json")));
  writeFileSync(join(at, "weights.bin"), readFileSync(join(legacy, "weights.bin")).subarray(0, bytes));
  return at;
}

it("an intact model.json + weights.bin loads with the same logits", async () => {
  const net = await loadNetwork(legacy);
  const got = net.forward(probe, 3).logits;
  expectClose(got, want, "logits", 1e-6, 0);
  net.dispose();
});

it("a weights.bin shorter than model.json lists names the file, the weight and the sizes", async () => {
  const total = readFileSync(join(legacy, "weights.bin")).byteLength;
  const at = cut(total - 40);
  const error = await readModelCheckpoint(at).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DataError);
  expect(String((error as Error).message)).toMatch(
    new RegExp(
      `${join(at, "weights.bin")}: truncated: weight '[\\w/]+' needs floats up to \\d+, the file holds ${(total - 40) / 4}`,
    ),
  );
});

it("a weights.bin cut mid-value (no whole number of floats) names the file and its length", async () => {
  const at = cut(1001);
  const error = await loadNetwork(at).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DataError);
  expect(String((error as Error).message)).toContain(
    `${join(at, "weights.bin")}: damaged: 1001 bytes is not a whole number of float32 values`,
  );
});
