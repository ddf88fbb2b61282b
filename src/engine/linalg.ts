/**
 * Dense linear algebra on plain typed arrays, computed by the tensor engine (XNNPACK on wasm SIMD),
 * for callers outside the engine that must not import tfjs (the k-NN probes of PredictionDepth).
 */
import * as tf from "@tensorflow/tfjs-core";
import { engineInfo } from "./backend.js";

/**
 * a·bᵀ for row-major a (rowsA × dim) and b (rowsB × dim): a new row-major Float32Array of rowsA × rowsB
 * float32 dot products (accumulated in float32 by the backend, in an order it chooses). The tensors
 * live only inside one tf.tidy, so the call leaves the engine's tensor count unchanged.
 */
export function matMulTransposed(
  a: Float32Array,
  rowsA: number,
  b: Float32Array,
  rowsB: number,
  dim: number,
): Float32Array {
  if (!engineInfo()) throw new Error("matMulTransposed: call 'await initEngine()' first");
  for (const [name, data, rows] of [
    ["a", a, rowsA],
    ["b", b, rowsB],
  ] as const) {
    if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(dim) || dim < 1) {
      throw new Error(`matMulTransposed: ${name} needs rows ≥ 1 and dim ≥ 1, got ${rows} × ${dim}`);
    }
    if (data.length !== rows * dim) {
      throw new Error(`matMulTransposed: ${name} holds ${data.length} values, expected ${rows} × ${dim}`);
    }
  }
  let out: Float32Array | undefined;
  // The array must not be tidy's return value: tidy walks a returned object's every key looking for
  // tensors, which costs seconds for a tile of millions of values.
  tf.tidy(() => {
    const product = tf.matMul(tf.tensor2d(a, [rowsA, dim]), tf.tensor2d(b, [rowsB, dim]), false, true);
    // dataSync copies out of the backend's heap, so the array outlives the tensors.
    out = product.dataSync() as Float32Array;
  });
  return out as Float32Array;
}
