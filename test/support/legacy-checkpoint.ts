import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NetworkSpec } from "../../src/engine/index.js";
import { describeModel, oiToIo, type ParameterSet } from "../../src/models/index.js";
import type { RngState } from "../../src/util/rng.js";

/**
 * Writes an FFNN's weights the way older releases saved them: tfjs layers `model.json` +
 * `weights.bin` with [in, out] kernels. Returns the folder.
 */
export function writeLegacyFfnn(
  at: string,
  spec: NetworkSpec,
  params: ParameterSet,
  dropoutRng: RngState,
): string {
  const description = describeModel(spec);
  const weights: { name: string; shape: number[]; dtype: string }[] = [];
  const chunks: Float32Array[] = [];
  for (const layer of description.layers) {
    if (layer.kind !== "linear") continue;
    const w = params.get(`${layer.name}.weight`)?.data as Float32Array;
    weights.push({
      name: `${layer.name}/kernel`,
      shape: [layer.inFeatures, layer.outFeatures],
      dtype: "float32",
    });
    chunks.push(oiToIo(w, layer.inFeatures, layer.outFeatures));
    weights.push({ name: `${layer.name}/bias`, shape: [layer.outFeatures], dtype: "float32" });
    chunks.push(params.get(`${layer.name}.bias`)?.data as Float32Array);
  }
  rmSync(at, { recursive: true, force: true });
  mkdirSync(at, { recursive: true });
  const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.length;
  }
  writeFileSync(join(at, "weights.bin"), new Uint8Array(all.buffer));
  writeFileSync(
    join(at, "model.json"),
    JSON.stringify({
      modelTopology: {},
      weightsManifest: [{ paths: ["weights.bin"], weights }],
      curricula: { format: 1, spec, dropoutRng },
    }),
  );
  return at;
}
