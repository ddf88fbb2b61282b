/**
 * Dense linear algebra on plain typed arrays, computed by the tensor engine (XNNPACK on wasm SIMD),
 * for callers outside the engine that must not import TensorFlow.js (the k-NN probes of PredictionDepth).
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkMatMulArgs } from "../checks.js";
import { wasmBackendInfo } from "./backend.js";

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
  if (!wasmBackendInfo()) throw new Error("matMulTransposed: call 'await initEngine()' first");
  checkMatMulArgs(a, rowsA, b, rowsB, dim);
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
