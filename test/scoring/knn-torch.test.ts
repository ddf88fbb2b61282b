/**
 * PredictionDepth's k-NN on the torch engine: the engine's matrix primitive is libtorch's product,
 * which runs on the engine's threads by itself, so the k-NN calls it from this thread; its fused
 * tile pass (product and the scan's first filter in one native call) makes exactly the offers the
 * JS scan makes, so the result, the exact distances computed and the overflows are the same, and
 * equal the exact path's.
 */
import { beforeAll, expect, it } from "vitest";
import { initEngine, matMulTransposed, matrixPrimitive, tileCandidates } from "../../src/engine/index.js";
import { type KnnStats, knnPredict, knnPredictParallel } from "../../src/scoring/math/knn.js";
import { Rng } from "../../src/util/rng.js";
import { softmaxLike } from "../support/knn-data.js";
import { describeTorch } from "../support/torch.js";

const noStats = (): KnnStats => ({ tiles: 0, rescored: 0, overflows: 0 });

function norms(x: Float32Array, rows: number, dim: number): Float64Array {
  return Float64Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += (x[r * dim + d] as number) ** 2;
    return s;
  });
}

describeTorch("k-NN on the torch engine", () => {
  beforeAll(async () => {
    await initEngine({ engine: "torch", threads: 2 });
  });

  it("uses libtorch's product and fused filter from this thread and equals the exact path", async () => {
    const matrix = matrixPrimitive();
    expect(matrix).toMatchObject({ engine: "torch", threadsPerCall: 2, workerInit: null });
    expect(typeof matrix?.tileCandidates).toBe("function");
    const { x, y } = softmaxLike(12, 1500);
    const stats = noStats();
    const got = await knnPredictParallel(x, y, x, 10, {
      k: 30,
      matrix,
      threads: 2,
      referenceTile: 400,
      minParallelWork: 0,
      stats,
    });
    expect(Array.from(got)).toEqual(Array.from(knnPredict(x, y, x, 10, { k: 30 })));
    expect(stats.tiles).toBe((4 * 5) / 2); // every tile pair once, in this thread
  });

  it("tileCandidates keeps exactly the pairs the JS scan would offer first, with bit-equal distances", () => {
    const rng = new Rng(3);
    const [rowsA, rowsB, dim] = [37, 53, 9];
    const a = Float32Array.from({ length: rowsA * dim }, () => rng.normal());
    const b = Float32Array.from({ length: rowsB * dim }, () => rng.normal());
    const na = norms(a, rowsA, dim);
    const nb = norms(b, rowsB, dim);
    // Bounds around the median distance, an infinite one and one that keeps nothing.
    const keepA = Float64Array.from({ length: rowsA }, (_, r) => (r === 0 ? Infinity : r === 1 ? -1 : 18));
    const keepB = Float64Array.from({ length: rowsB }, (_, t) => (t === 2 ? Infinity : 16));
    const lists = tileCandidates(a, rowsA, b, rowsB, dim, na, nb, keepA, keepB);
    const dots = matMulTransposed(a, rowsA, b, rowsB, dim);
    const want = { row: [] as [number, number, number][], col: [] as [number, number, number][] };
    for (let r = 0; r < rowsA; r++)
      for (let t = 0; t < rowsB; t++) {
        let d = (na[r] as number) + (nb[t] as number) - 2 * (dots[r * rowsB + t] as number);
        if (d < 0) d = 0;
        if (d <= (keepA[r] as number)) want.row.push([r, t, d]);
      }
    for (let t = 0; t < rowsB; t++)
      for (let r = 0; r < rowsA; r++) {
        let d = (nb[t] as number) + (na[r] as number) - 2 * (dots[r * rowsB + t] as number);
        if (d < 0) d = 0;
        if (d <= (keepB[t] as number)) want.col.push([t, r, d]);
      }
    const got = { row: [] as [number, number, number][], col: [] as [number, number, number][] };
    for (let r = 0; r < rowsA; r++)
      for (let c = lists.rowStart[r] as number; c < (lists.rowStart[r + 1] as number); c++)
        got.row.push([r, lists.rowIndex[c] as number, lists.rowDist[c] as number]);
    const colStart = lists.colStart as Int32Array;
    for (let t = 0; t < rowsB; t++)
      for (let c = colStart[t] as number; c < (colStart[t + 1] as number); c++)
        got.col.push([
          t,
          (lists.colIndex as Int32Array)[c] as number,
          (lists.colDist as Float64Array)[c] as number,
        ]);
    expect(got).toEqual(want);
    expect(want.row.filter(([r]) => r === 0)).toHaveLength(rowsB);
    expect(want.row.filter(([r]) => r === 1)).toHaveLength(0);
    expect(want.row.length).toBeGreaterThan(rowsB);
    expect(want.row.length).toBeLessThan(rowsA * rowsB);
    // Without column bounds there are no column lists.
    expect(tileCandidates(a, rowsA, b, rowsB, dim, na, nb, keepA, null).colStart).toBeUndefined();
    expect(() => tileCandidates(a, rowsA, b, rowsB, dim, na, nb, keepA.subarray(1), null)).toThrow(
      /norms and bounds must hold one value per row/,
    );
  });

  it("the fused pass makes the JS scan's offers: same predictions, exact distances and overflows", () => {
    const matrix = matrixPrimitive();
    const dot = matrix?.matMulTransposed;
    const candidates = matrix?.tileCandidates;
    const rng = new Rng(5);
    const grid = Float32Array.from({ length: 700 * 3 }, () => rng.int(4));
    const gridY = Int32Array.from({ length: 700 }, () => rng.int(3));
    const soft = softmaxLike(7, 1300);
    const cases = [
      { name: "softmax near-ties", x: soft.x, y: soft.y, dim: 10, k: 30, tile: 256 },
      { name: "integer grid (exact ties across tiles)", x: grid, y: gridY, dim: 3, k: 7, tile: 97 },
    ];
    for (const { name, x, y, dim, k, tile } of cases) {
      const exact = Array.from(knnPredict(x, y, x, dim, { k }));
      for (const queries of [x, x.slice()]) {
        const scanned = noStats();
        const fused = noStats();
        const viaScan = knnPredict(x, y, queries, dim, {
          k,
          dot,
          referenceTile: tile,
          queryTile: 128,
          stats: scanned,
        });
        const viaFused = knnPredict(x, y, queries, dim, {
          k,
          dot,
          candidates,
          referenceTile: tile,
          queryTile: 128,
          stats: fused,
        });
        expect(Array.from(viaScan), name).toEqual(exact);
        expect(Array.from(viaFused), name).toEqual(exact);
        expect(fused, name).toEqual(scanned);
      }
    }
  });
});
