/**
 * PredictionDepth's k-NN on the torch engine: the engine's matrix primitive is libtorch's product,
 * which runs on the engine's threads by itself, so the k-NN calls it from this thread; its fused
 * tile pass (product and the scan's first filter in one native call) hands over every pair the JS
 * scan would offer that can still be among a query's k nearest, so the result equals the exact
 * path's; its exact distances and float32 pre-test are checked bit for bit.
 */
import { beforeAll, expect, it } from "vitest";
import { initEngine, matMulTransposed, matrixPrimitive, tileCandidates } from "../../src/engine/index.js";
import { type KnnStats, knnPredict, knnPredictParallel } from "../../src/scoring/math/knn/index.js";
import { Rng } from "../../src/util/rng.js";
import { softmaxLike } from "../support/knn-data.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";

const noStats = (): KnnStats => ({ tiles: 0, rescored: 0, overflows: 0 });

function norms(x: Float32Array, rows: number, dim: number): Float64Array {
  return Float64Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += (x[r * dim + d] as number) ** 2;
    return s;
  });
}

describeWith(torchEngine, "k-NN on the torch engine", () => {
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

  it("tileCandidates keeps the pairs within each query's bound, with bit-equal distances", () => {
    const rng = new Rng(3);
    const [rowsA, rowsB, dim, k] = [37, 53, 9, 5];
    const a = Float32Array.from({ length: rowsA * dim }, () => rng.normal());
    const b = Float32Array.from({ length: rowsB * dim }, () => rng.normal());
    const na = norms(a, rowsA, dim);
    const nb = norms(b, rowsB, dim);
    // Bounds around the median distance, infinite ones (queries that have seen fewer than k
    // references) and one that keeps nothing.
    const rows = {
      keep: Float64Array.from({ length: rowsA }, (_, r) => (r === 0 ? Infinity : r === 1 ? -1 : 18)),
      errors: Float64Array.from({ length: rowsA }, () => 0.5),
    };
    const cols = {
      keep: Float64Array.from({ length: rowsB }, (_, t) => (t === 2 ? Infinity : 16)),
      errors: Float64Array.from({ length: rowsB }, () => 0.25),
    };
    const lists = tileCandidates(a, rowsA, b, rowsB, dim, na, nb, k, rows, cols);
    const dots = matMulTransposed(a, rowsA, b, rowsB, dim);
    /** The JS scan's arithmetic; an infinite bound becomes (k-th smallest d of the tile + e) + e. */
    const expected = (
      n: number,
      m: number,
      q: (i: number, j: number) => number,
      keep0: number,
      e: number,
    ) => {
      const d = Array.from({ length: m }, (_, j) => Math.max(q(n, j), 0));
      const sorted = [...d].sort((x, y) => x - y);
      const keep = keep0 === Infinity && m >= k ? (sorted[k - 1] as number) + e + e : keep0;
      const out: [number, number][] = [];
      d.forEach((v, j) => {
        if (v <= keep) out.push([j, v]);
      });
      return out;
    };
    const want = {
      row: Array.from({ length: rowsA }, (_, r) =>
        expected(
          r,
          rowsB,
          (i, t) => (na[i] as number) + (nb[t] as number) - 2 * (dots[i * rowsB + t] as number),
          rows.keep[r] as number,
          0.5,
        ),
      ),
      col: Array.from({ length: rowsB }, (_, t) =>
        expected(
          t,
          rowsA,
          (i, r) => (nb[i] as number) + (na[r] as number) - 2 * (dots[r * rowsB + i] as number),
          cols.keep[t] as number,
          0.25,
        ),
      ),
    };
    const got = {
      row: Array.from({ length: rowsA }, (_, r) => {
        const out: [number, number][] = [];
        for (let c = lists.rowStart[r] as number; c < (lists.rowStart[r + 1] as number); c++)
          out.push([lists.rowIndex[c] as number, lists.rowDist[c] as number]);
        return out;
      }),
      col: Array.from({ length: rowsB }, (_, t) => {
        const start = lists.colStart as Int32Array;
        const out: [number, number][] = [];
        for (let c = start[t] as number; c < (start[t + 1] as number); c++)
          out.push([
            (lists.colIndex as Int32Array)[c] as number,
            (lists.colDist as Float64Array)[c] as number,
          ]);
        return out;
      }),
    };
    expect(got).toEqual(want);
    // The infinite bound was settled from the tile's k nearest, the empty one kept nothing, the
    // others some.
    expect(want.row[0]?.length).toBeGreaterThanOrEqual(k);
    expect(want.row[0]?.length).toBeLessThan(rowsB);
    expect(want.row[1]).toHaveLength(0);
    const kept = want.row.reduce((n, l) => n + l.length, 0);
    expect(kept).toBeGreaterThan(rowsB);
    expect(kept).toBeLessThan(rowsA * rowsB);
    // Without column bounds there are no column lists; malformed bounds are refused.
    expect(tileCandidates(a, rowsA, b, rowsB, dim, na, nb, k, rows, null).colStart).toBeUndefined();
    expect(() =>
      tileCandidates(
        a,
        rowsA,
        b,
        rowsB,
        dim,
        na,
        nb,
        k,
        { keep: rows.keep.subarray(1), errors: rows.errors },
        null,
      ),
    ).toThrow(/keep and errors must hold one value per query/);
  });

  it("tileCandidates' float32 pre-test never drops a pair at its bound (bounds equal to pair distances)", () => {
    // Rows and columns of different magnitudes, so the pre-test's float32 differences round away
    // from its floor; each bound is exactly one pair's distance, and that pair and every pair at or
    // below it must come back (a pre-test without its rounding margin loses some).
    const rng = new Rng(8);
    const [rowsA, rowsB, dim] = [150, 203, 33];
    const a = Float32Array.from({ length: rowsA * dim }, () => 3 + rng.normal());
    const b = Float32Array.from({ length: rowsB * dim }, () => 0.1 + rng.normal() * (1 + 3 * rng.random()));
    const na = norms(a, rowsA, dim);
    const nb = norms(b, rowsB, dim);
    const dots = matMulTransposed(a, rowsA, b, rowsB, dim);
    const d = (r: number, t: number) =>
      Math.max((na[r] as number) + (nb[t] as number) - 2 * (dots[r * rowsB + t] as number), 0);
    const dc = (t: number, r: number) =>
      Math.max((nb[t] as number) + (na[r] as number) - 2 * (dots[r * rowsB + t] as number), 0);
    for (let rep = 0; rep < 5; rep++) {
      const rows = {
        keep: Float64Array.from({ length: rowsA }, (_, r) => d(r, (r * 7 + rep * 31) % rowsB)),
        errors: new Float64Array(rowsA),
      };
      const cols = {
        keep: Float64Array.from({ length: rowsB }, (_, t) => dc(t, (t * 5 + rep * 17) % rowsA)),
        errors: new Float64Array(rowsB),
      };
      const lists = tileCandidates(a, rowsA, b, rowsB, dim, na, nb, 1, rows, cols);
      for (let r = 0; r < rowsA; r++) {
        const want = Array.from({ length: rowsB }, (_, t) => t).filter(
          (t) => d(r, t) <= (rows.keep[r] as number),
        );
        expect(Array.from(lists.rowIndex.subarray(lists.rowStart[r], lists.rowStart[r + 1]))).toEqual(want);
      }
      const start = lists.colStart as Int32Array;
      for (let t = 0; t < rowsB; t++) {
        const want = Array.from({ length: rowsA }, (_, r) => r).filter(
          (r) => dc(t, r) <= (cols.keep[t] as number),
        );
        expect(Array.from((lists.colIndex as Int32Array).subarray(start[t], start[t + 1]))).toEqual(want);
      }
    }
  });

  it("exactDistances gives the exact path's float64 distances bit for bit; the projected path on torch equals the tiled one", () => {
    const matrix = matrixPrimitive();
    const native = matrix?.exactDistances;
    if (!native) throw new Error("the torch engine has no exactDistances");
    const rng = new Rng(9);
    for (const dim of [1, 7, 484]) {
      const n = 61;
      const x = Float32Array.from({ length: n * dim }, () => rng.normal() * 10 ** rng.int(4));
      const nx = norms(x, n, dim);
      const idx = Int32Array.from({ length: 45 }, () => rng.int(n));
      for (const [q, from, count] of [
        [3, 0, 45],
        [60, 5, 39],
        [0, 2, 0],
      ] as const) {
        const out = new Float64Array(count);
        native(x, q, nx[q] as number, x, nx, dim, idx, from, count, out);
        const want = Array.from({ length: count }, (_, t) => {
          const j = idx[from + t] as number;
          let s = 0;
          for (let d = 0; d < dim; d++) s += (x[q * dim + d] as number) * (x[j * dim + d] as number);
          return Math.max((nx[q] as number) + (nx[j] as number) - 2 * s, 0);
        });
        expect(Array.from(out)).toEqual(want);
      }
      expect(() => native(x, 0, 0, x, nx, dim, Int32Array.from([n]), 0, 1, new Float64Array(1))).toThrow(
        /reference index out of range/,
      );
    }
    // The projected path with the engine's product, fused filter and exact distances.
    const wide = 256;
    const y = Int32Array.from({ length: 900 }, () => rng.int(4));
    const dirs = Array.from({ length: 6 }, () => Float64Array.from({ length: wide }, () => rng.normal()));
    const data = new Float32Array(900 * wide);
    for (let i = 0; i < 900; i++) {
      const z = dirs.map(() => rng.normal());
      for (let d = 0; d < wide; d++) {
        let v = (y[i] as number) + 0.01 * rng.normal();
        dirs.forEach((dir, j) => {
          v += (z[j] as number) * (dir[d] as number);
        });
        data[i * wide + d] = v;
      }
    }
    const projected = noStats();
    const viaProjection = knnPredict(data, y, data, wide, {
      k: 20,
      dot: matrix?.matMulTransposed,
      candidates: matrix?.tileCandidates,
      exactDistances: native,
      projection: { rank: 8 },
      referenceTile: 256,
      stats: projected,
    });
    expect(projected.projectedRank).toBe(8);
    expect(Array.from(viaProjection)).toEqual(Array.from(knnPredict(data, y, data, wide, { k: 20 })));
  });

  it("the fused pass gives the JS scan's predictions, the exact path's", () => {
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
        expect(fused.tiles, name).toBe(scanned.tiles);
      }
    }
  });
});
