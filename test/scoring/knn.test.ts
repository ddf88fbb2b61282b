/**
 * The tiled k-NN path (float32 dot products from a provider, exact re-ranking) against the exact JS
 * path and a naive definition, and the engine's matMulTransposed that provides the products.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { engineMemory, initEngine, matMulTransposed, matrixPrimitive } from "../../src/engine/index.js";
import {
  type DotProducts,
  type KnnStats,
  knnPredict,
  knnPredictParallel,
} from "../../src/scoring/math/knn/index.js";
import { Rng } from "../../src/util/rng.js";
import { softmaxLike } from "../support/knn-data.js";
import { naiveKnn } from "../support/naive-knn.js";

/** a·bᵀ by a plain float64 loop, rounded to float32. */
function plainDot(a: Float32Array, rowsA: number, b: Float32Array, rowsB: number, dim: number): Float32Array {
  const out = new Float32Array(rowsA * rowsB);
  for (let i = 0; i < rowsA; i++)
    for (let j = 0; j < rowsB; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (a[i * dim + d] as number) * (b[j * dim + d] as number);
      out[i * rowsB + j] = s;
    }
  return out;
}

/**
 * Products off by up to 99% of the float32 error bound γ_D·‖a‖·‖b‖ used by the tiled path, in a seeded
 * random direction: an adversarial but legal float32 backend.
 */
function noisyDot(seed: number): DotProducts {
  const rng = new Rng(seed);
  return (a, rowsA, b, rowsB, dim) => {
    const exact = plainDot(a, rowsA, b, rowsB, dim);
    const norm = (x: Float32Array, i: number) =>
      Math.sqrt(x.subarray(i * dim, (i + 1) * dim).reduce((s, v) => s + v * v, 0));
    const gamma = (dim * 2 ** -24) / (1 - dim * 2 ** -24);
    for (let i = 0; i < rowsA; i++)
      for (let j = 0; j < rowsB; j++) {
        const bound = gamma * norm(a, i) * norm(b, j);
        exact[i * rowsB + j] = (exact[i * rowsB + j] as number) + (rng.random() * 2 - 1) * 0.99 * bound;
      }
    return exact;
  };
}

function clustered(seed: number, n: number, dim: number, classes: number, spread = 0.4) {
  const rng = new Rng(seed);
  const y = Int32Array.from({ length: n }, () => rng.int(classes));
  const x = Float32Array.from(
    { length: n * dim },
    (_, i) => (y[Math.floor(i / dim)] as number) * spread + rng.normal(),
  );
  return { x, y };
}

const engineDot: DotProducts = (a, rowsA, b, rowsB, dim) => matMulTransposed(a, rowsA, b, rowsB, dim);

describe("matMulTransposed (engine)", () => {
  beforeAll(async () => {
    await initEngine();
  });

  it("computes a·bᵀ like a plain loop and leaves no tensors behind", () => {
    const rng = new Rng(5);
    const a = Float32Array.from({ length: 37 * 19 }, () => rng.normal());
    const b = Float32Array.from({ length: 53 * 19 }, () => rng.normal());
    const before = engineMemory().tensors;
    for (let rep = 0; rep < 3; rep++) {
      const got = matMulTransposed(a, 37, b, 53, 19);
      const want = plainDot(a, 37, b, 53, 19);
      expect(got.length).toBe(37 * 53);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 4);
    }
    expect(engineMemory().tensors).toBe(before);
  });

  it("accepts subarray views and rejects shapes that do not match the data", () => {
    const a = Float32Array.from([9, 9, 1, 2, 3, 4]).subarray(2); // rows (1,2), (3,4)
    const b = Float32Array.from([1, 0, 0, 1, 1, 1]);
    expect(Array.from(matMulTransposed(a, 2, b, 3, 2))).toEqual([1, 2, 3, 3, 4, 7]);
    const before = engineMemory().tensors;
    expect(() => matMulTransposed(a, 3, b, 3, 2)).toThrow(/a holds 4 values, expected 3 × 2/);
    expect(() => matMulTransposed(a, 2, b, 2, 2)).toThrow(/b holds 6 values/);
    expect(engineMemory().tensors).toBe(before);
  });
});

describe("knnPredict, tiled path", () => {
  beforeAll(async () => {
    await initEngine();
  });

  it("with the engine's products agrees 100% with the naive definition on well-separated data", () => {
    const { x, y } = clustered(11, 700, 24, 5, 1.5);
    const q = clustered(12, 90, 24, 5, 1.5).x;
    const before = engineMemory().tensors;
    const opts = { dot: engineDot, queryTile: 64, referenceTile: 150 };
    expect(Array.from(knnPredict(x, y, x, 24, { ...opts, k: 30 }))).toEqual(
      Array.from(naiveKnn(x, y, x, 24, 30)),
    );
    expect(Array.from(knnPredict(x, y, q, 24, { ...opts, k: 7 }))).toEqual(
      Array.from(naiveKnn(x, y, q, 24, 7)),
    );
    expect(engineMemory().tensors).toBe(before);
  });

  it("equals the exact path with equal distances across tiles (integer grid), engine or adversarial products", () => {
    const rng = new Rng(9);
    const n = 600;
    const dim = 3;
    const y = Int32Array.from({ length: n }, () => rng.int(3));
    const x = Float32Array.from({ length: n * dim }, () => rng.int(4));
    const exact = Array.from(knnPredict(x, y, x, dim, { k: 7 }));
    expect(exact).toEqual(Array.from(naiveKnn(x, y, x, dim, 7)));
    for (const dot of [engineDot, noisyDot(1), noisyDot(2)]) {
      // Queries that are the references use each product tile twice (rows and columns): 7 tiles a side.
      const stats: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
      const got = knnPredict(x, y, x, dim, { k: 7, dot, referenceTile: 97, stats });
      expect(Array.from(got)).toEqual(exact);
      expect(stats.tiles).toBe((7 * 8) / 2);
      // Ties are resolved from the candidates alone: far fewer exact distances than a rescan (n²).
      expect(stats.rescored).toBeLessThan((n * n) / 10);
      // A copy of the references as queries takes the general path: every query tile × reference tile.
      const general: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
      const copy = knnPredict(x, y, x.slice(), dim, {
        k: 7,
        dot,
        queryTile: 128,
        referenceTile: 97,
        stats: general,
      });
      expect(Array.from(copy)).toEqual(exact);
      expect(general.tiles).toBe(Math.ceil(n / 128) * 7);
    }
  });

  it("re-ranks near-ties exactly when the products carry float32-sized errors", () => {
    // Large offsets and tiny spreads: the float32 error bound covers many references, so the
    // approximate order alone would often be wrong; the re-ranked result must still equal the exact one.
    const rng = new Rng(21);
    const n = 400;
    const dim = 16;
    const y = Int32Array.from({ length: n }, () => rng.int(4));
    const x = Float32Array.from(
      { length: n * dim },
      (_, i) => 100 + (y[Math.floor(i / dim)] as number) * 1e-3 + rng.normal() * 1e-3,
    );
    const exact = Array.from(knnPredict(x, y, x, dim, { k: 9 }));
    const stats: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
    const got = knnPredict(x, y, x, dim, { k: 9, dot: noisyDot(3), queryTile: 50, referenceTile: 64, stats });
    expect(Array.from(got)).toEqual(exact);
    expect(stats.rescored).toBeGreaterThan(9 * n); // more candidates than k: the margin was needed
  });

  it("low-dimensional near-ties (softmax outputs): equal to the exact path, resolved from candidates", () => {
    const n = 2000;
    const { x, y } = softmaxLike(4, n);
    let saturated = 0;
    for (let i = 0; i < x.length; i++) if (x[i] === 1) saturated++;
    expect(saturated).toBeGreaterThan(n / 4); // the case that used to overflow: exact ties at distance 0
    const exact = Array.from(knnPredict(x, y, x, 10, { k: 30 }));
    for (const dot of [engineDot, noisyDot(5)]) {
      const stats: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
      const got = knnPredict(x, y, x, 10, { k: 30, dot, referenceTile: 512, stats });
      expect(Array.from(got)).toEqual(exact);
      expect(stats.overflows).toBeGreaterThan(0);
      // Candidates beyond the k nearest are resolved where they appear, with no rescan of any query:
      // the exact distances stay a small share of the n² pairs.
      expect(stats.rescored).toBeLessThan((n * n) / 20);
    }
  });

  it("resolves queries whose candidates overflow during the scan, without rescanning them", () => {
    // 2500 copies each of two points: every copy of the nearer one is a candidate for each query.
    const n = 5000;
    const x = Float32Array.from({ length: n * 2 }, (_, i) => 1 + (Math.floor(i / 2) % 2));
    const y = Int32Array.from({ length: n }, (_, i) => (i * 7) % 3);
    const q = Float32Array.from([0, 0, 5, 5]);
    const stats: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
    const got = knnPredict(x, y, q, 2, { k: 30, dot: plainDot, stats });
    expect(Array.from(got)).toEqual(Array.from(knnPredict(x, y, q, 2, { k: 30 })));
    expect(stats.overflows).toBe(2);
    // Only the tied copies get exact distances; the old full rescan computed all 2n.
    expect(stats.rescored).toBeLessThan(2 * n);
  });

  it("falls back to the exact path for non-finite embeddings and checks the provider's output size", () => {
    const x = Float32Array.from([0, 1, 2, Number.POSITIVE_INFINITY]);
    const y = Int32Array.from([0, 0, 1, 1]);
    let called = 0;
    const counting: DotProducts = (...args) => {
      called++;
      return plainDot(...args);
    };
    expect(Array.from(knnPredict(x, y, x, 1, { k: 1, dot: counting }))).toEqual(
      Array.from(knnPredict(x, y, x, 1, { k: 1 })),
    );
    expect(called).toBe(0);
    const short: DotProducts = () => new Float32Array(1);
    expect(() => knnPredict(x.subarray(0, 3), y.subarray(0, 3), x.subarray(0, 3), 1, { dot: short })).toThrow(
      /returned 1 values, expected 3 × 3/,
    );
  });

  it("keeps tfjs out of src/scoring (only the engine imports it)", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith(".ts")) files.push(path);
      }
    };
    walk("src/scoring");
    const offenders = files.filter((f) => /from\s+["']@tensorflow\//.test(readFileSync(f, "utf8")));
    expect(offenders).toEqual([]);
  });
});

describe("knnPredictParallel (worker threads, needs dist/ built)", () => {
  beforeAll(async () => {
    await initEngine();
  });

  it("gives the single-threaded result on the engine's products, for the probes and for other queries", async () => {
    const matrix = matrixPrimitive();
    expect(matrix).not.toBeNull();
    const { x, y } = softmaxLike(6, 2500);
    const opts = { k: 30, numClasses: 10, referenceTile: 300, minParallelWork: 0 };
    const single: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
    const threaded: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
    const want = knnPredict(x, y, x, 10, { ...opts, dot: matMulTransposed, stats: single });
    let progress = 0;
    const got = await knnPredictParallel(x, y, x, 10, {
      ...opts,
      matrix,
      threads: 2,
      stats: threaded,
      onProgress: (done) => {
        progress = done;
      },
    });
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(threaded.tiles).toBe(single.tiles); // every tile pair once, split between the workers
    expect(progress).toBe(2500);
    const { x: xs, y: ys } = clustered(7, 900, 24, 5, 0.6);
    const queries = clustered(8, 333, 24, 5, 0.6).x;
    const general = await knnPredictParallel(xs, ys, queries, 24, {
      k: 7,
      matrix,
      threads: 3,
      queryTile: 64,
      referenceTile: 200,
      minParallelWork: 0,
    });
    expect(Array.from(general)).toEqual(Array.from(knnPredict(xs, ys, queries, 24, { k: 7 })));
  });

  it("reports a worker's failure (an engine without a product in the worker) instead of hanging", async () => {
    const matrix = matrixPrimitive();
    if (!matrix) throw new Error("the engine should have a matrix primitive");
    const { x, y } = clustered(10, 400, 8, 3, 0.5);
    await expect(
      knnPredictParallel(x, y, x, 8, {
        k: 5,
        matrix: { ...matrix, workerInit: { backend: "cpu" } },
        threads: 2,
        referenceTile: 100,
        minParallelWork: 0,
      }),
    ).rejects.toThrow(/no matrix primitive in this worker/);
  });

  it("splits the exact path's queries among workers when there is no matrix primitive", async () => {
    const { x, y } = clustered(9, 700, 12, 4, 0.5);
    const got = await knnPredictParallel(x, y, x, 12, { k: 9, matrix: null, threads: 2, minParallelWork: 0 });
    expect(Array.from(got)).toEqual(Array.from(knnPredict(x, y, x, 12, { k: 9 })));
  });
});
