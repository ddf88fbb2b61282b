/** Argument checks every engine's networks and matrix primitives share. */

/** A batch of `batchSize` samples of `inputSize` values each, or an error naming `where`. */
export function checkBatchInput(
  x: Float32Array,
  batchSize: number,
  inputShape: readonly number[],
  inputSize: number,
  where: string,
): void {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`${where}: batchSize must be a positive integer, got ${batchSize}`);
  if (x.length !== batchSize * inputSize) {
    throw new Error(
      `${where}: expected ${batchSize} x [${inputShape.join(", ")}] = ${batchSize * inputSize} input values, got ${x.length}`,
    );
  }
}

/** trainStep's `logitsOut`: room for exactly batchSize × outputDim logits. */
export function checkLogitsOut(logitsOut: Float32Array, batchSize: number, outputDim: number): void {
  if (logitsOut.length !== batchSize * outputDim) {
    throw new Error(
      `trainStep: logitsOut holds ${logitsOut.length} values, expected ${batchSize} x ${outputDim} = ${batchSize * outputDim}`,
    );
  }
}

/** Row-major a (rowsA × dim) and b (rowsB × dim) for matMulTransposed. */
export function checkMatMulArgs(
  a: Float32Array,
  rowsA: number,
  b: Float32Array,
  rowsB: number,
  dim: number,
): void {
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
}
