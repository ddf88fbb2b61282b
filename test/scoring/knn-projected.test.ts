/**
 * The projected k-NN path (src/scoring/math/knn/projected.ts): searching wide rows through a
 * low-dimensional lower bound must give the exact path's neighbours, distances and ties included,
 * whatever the basis, the data's rank and the product's legal float32 errors.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { initEngine, matMulTransposed } from "../../src/engine/index.js";
import { type DotProducts, type KnnStats, knnPredict } from "../../src/scoring/math/knn/index.js";
import type { NeighbourLists } from "../../src/scoring/math/knn/lists.js";
import { makeProblem } from "../../src/scoring/math/knn/problem.js";
import { planProjection, projectedSearch } from "../../src/scoring/math/knn/projected.js";
import { planTiles, TiledSearch } from "../../src/scoring/math/knn/tiled.js";
import { Rng } from "../../src/util/rng.js";
import { naiveKnn } from "../support/naive-knn.js";

const engineDot: DotProducts = (a, rowsA, b, rowsB, dim) => matMulTransposed(a, rowsA, b, rowsB, dim);

/** a·bᵀ off by up to 99% of the float32 error bound γ_D·‖a‖·‖b‖, in a seeded random direction. */
function noisyDot(seed: number): DotProducts {
  const rng = new Rng(seed);
  return (a, rowsA, b, rowsB, dim) => {
    const out = new Float32Array(rowsA * rowsB);
    const gamma = (dim * 2 ** -24) / (1 - dim * 2 ** -24);
    const norm = (x: Float32Array, i: number) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (x[i * dim + d] as number) ** 2;
      return Math.sqrt(s);
    };
    for (let i = 0; i < rowsA; i++)
      for (let j = 0; j < rowsB; j++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += (a[i * dim + d] as number) * (b[j * dim + d] as number);
        const bound = gamma * norm(a, i) * norm(b, j);
        out[i * rowsB + j] = s + (rng.random() * 2 - 1) * 0.99 * bound;
      }
    return out;
  };
}

/**
 * Rows like a layer's activations: class means plus `rank` latent directions and a little noise,
 * optionally with exact duplicates.
 */
function lowRank(seed: number, n: number, dim: number, rank: number, noise: number, duplicates = 0) {
  const rng = new Rng(seed);
  const classes = 4;
  const y = Int32Array.from({ length: n }, () => rng.int(classes));
  const basis = Array.from({ length: rank }, () => Float64Array.from({ length: dim }, () => rng.normal()));
  const means = Array.from({ length: classes }, () => Float64Array.from({ length: dim }, () => rng.normal()));
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const source = i >= n - duplicates ? rng.int(n - duplicates) : -1;
    if (source >= 0) {
      x.copyWithin(i * dim, source * dim, (source + 1) * dim);
      y[i] = y[source] as number;
      continue;
    }
    const z = Array.from({ length: rank }, () => rng.normal());
    for (let d = 0; d < dim; d++) {
      let v = (means[y[i] as number] as Float64Array)[d] as number;
      for (let j = 0; j < rank; j++) v += (z[j] as number) * ((basis[j] as Float64Array)[d] as number);
      x[i * dim + d] = v + noise * rng.normal();
    }
  }
  return { x, y };
}

/** The tiled path's exact neighbour lists (tested against the exact path in knn.test.ts). */
function tiledLists(x: Float32Array, y: Int32Array, q: Float32Array, dim: number, k: number): NeighbourLists {
  const problem = makeProblem(x, y, q, dim, { k });
  const plan = planTiles(problem, { referenceTile: 256, queryTile: 128 });
  if (!plan) throw new Error("no plan");
  const search = new TiledSearch(problem, plan);
  for (let p = 0; p < plan.pairs; p++) search.runPair(p, engineDot);
  search.finishAll();
  return search.result();
}

function projectedLists(
  x: Float32Array,
  y: Int32Array,
  q: Float32Array,
  dim: number,
  k: number,
  dot: DotProducts,
  rank: number,
  stats?: KnnStats,
): NeighbourLists {
  const problem = makeProblem(x, y, q, dim, { k });
  const projection = planProjection(problem, dot, { rank });
  if (!projection) throw new Error("no projection");
  return projectedSearch(problem, projection, {
    k,
    dot,
    referenceTile: 256,
    queryTile: 128,
    ...(stats ? { stats } : {}),
  });
}

function expectSameLists(got: NeighbourLists, want: NeighbourLists): void {
  expect(Array.from(got.filled)).toEqual(Array.from(want.filled));
  expect(Array.from(got.idx)).toEqual(Array.from(want.idx));
  expect(Array.from(got.dist)).toEqual(Array.from(want.dist));
}

describe("knnPredict, projected path", () => {
  beforeAll(async () => {
    await initEngine();
  });

  it("finds the exact neighbours of low-rank rows, with far fewer candidates than pairs", () => {
    const n = 900;
    const dim = 200;
    const { x, y } = lowRank(1, n, dim, 6, 0.02);
    const want = tiledLists(x, y, x, dim, 15);
    // Rank 4 leaves out 40% of the energy (many candidates), 16 all but the noise (few).
    const rescored: number[] = [];
    for (const rank of [4, 8, 16]) {
      const stats: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
      expectSameLists(projectedLists(x, y, x, dim, 15, engineDot, rank, stats), want);
      rescored.push(stats.rescored);
    }
    expect(rescored[0]).toBeGreaterThan((n * n) / 4);
    expect(rescored[2]).toBeLessThan(4 * 15 * n);
    const predicted = knnPredict(x, y, x, dim, { k: 15, dot: engineDot, projection: { rank: 8 } });
    expect(Array.from(predicted)).toEqual(Array.from(naiveKnn(x, y, x, dim, 15)));
  });

  it("stays exact with adversarial float32 products, exact duplicates and full-rank rows", () => {
    const dim = 64;
    const dup = lowRank(2, 500, dim, 5, 0.01, 150);
    const full = (() => {
      const rng = new Rng(3);
      return {
        x: Float32Array.from({ length: 500 * dim }, () => rng.normal()),
        y: Int32Array.from({ length: 500 }, () => rng.int(3)),
      };
    })();
    for (const { x, y } of [dup, full]) {
      const want = tiledLists(x, y, x, dim, 9);
      for (const dot of [engineDot, noisyDot(4)]) {
        expectSameLists(projectedLists(x, y, x, dim, 9, dot, 6), want);
      }
    }
  });

  it("keeps every tie at the k-th distance when the bound is tight (integer rows in a 5-dimensional subspace)", () => {
    // Integer coordinates on 5 of 64 axes (signs flipped): distances are integers, ties at the k-th
    // distance are everywhere, and the projection's lower bound equals the distance up to rounding,
    // so a bound without its rounding margins would lose tied references of lower index.
    const rng = new Rng(13);
    const n = 700;
    const dim = 64;
    const axes = [3, 17, 29, 40, 58];
    const x = new Float32Array(n * dim);
    const y = Int32Array.from({ length: n }, () => rng.int(3));
    for (let i = 0; i < n; i++) {
      axes.forEach((a, j) => {
        x[i * dim + a] = (j % 2 ? -1 : 1) * rng.int(4);
      });
    }
    const want = tiledLists(x, y, x, dim, 11);
    for (const dot of [engineDot, noisyDot(14)]) {
      expectSameLists(projectedLists(x, y, x, dim, 11, dot, 5), want);
      expectSameLists(projectedLists(x, y, x, dim, 11, dot, 3), want);
    }
  });

  it("handles queries other than the references, zero rows and rows of very different norms", () => {
    const dim = 96;
    const { x, y } = lowRank(5, 600, dim, 4, 0.05);
    x.fill(0, 0, 10 * dim); // ten zero rows: exact ties at distance 0 among them
    for (let d = 0; d < dim; d++) x[20 * dim + d] = (x[20 * dim + d] as number) * 1e4;
    const q = lowRank(6, 130, dim, 4, 0.05).x;
    q.fill(0, 0, dim);
    expectSameLists(projectedLists(x, y, q, dim, 12, engineDot, 8), tiledLists(x, y, q, dim, 12));
    expectSameLists(projectedLists(x, y, x, dim, 12, noisyDot(7), 8), tiledLists(x, y, x, dim, 12));
  });

  it("is chosen only for wide, low-rank and large enough problems", () => {
    const wide = lowRank(8, 4096, 192, 6, 0.001);
    const problem = makeProblem(wide.x, wide.y, wide.x, 192, { k: 30 });
    const projection = planProjection(problem, engineDot);
    expect(projection?.rank).toBe(16);
    expect(projection?.residual).toBeLessThan(0.0025);
    // Too narrow, too small or without structure: the tiled path.
    const narrow = lowRank(9, 4096, 128, 6, 0.001);
    expect(planProjection(makeProblem(narrow.x, narrow.y, narrow.x, 128, { k: 30 }), engineDot)).toBeNull();
    const small = lowRank(10, 1000, 256, 6, 0.001);
    expect(planProjection(makeProblem(small.x, small.y, small.x, 256, { k: 30 }), engineDot)).toBeNull();
    const rng = new Rng(11);
    const noise = Float32Array.from({ length: 4096 * 192 }, () => rng.normal());
    expect(planProjection(makeProblem(noise, wide.y, noise, 192, { k: 30 }), engineDot)).toBeNull();
    // From 384 dimensions on, rank 64 may leave out a few percent.
    const blurred = lowRank(13, 4096, 384, 62, 0.05);
    const loose = planProjection(makeProblem(blurred.x, blurred.y, blurred.x, 384, { k: 30 }), engineDot);
    expect(loose?.rank).toBe(64);
    expect(loose?.residual).toBeGreaterThan(0.0025);
    expect(loose?.residual).toBeLessThan(0.05);
    // knnPredict records the rank it used; `projection: false` keeps the tiled path.
    const stats: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
    const sub = lowRank(12, 700, 192, 5, 0.01);
    knnPredict(sub.x, sub.y, sub.x, 192, { k: 10, dot: engineDot, projection: { rank: 8 }, stats });
    expect(stats.projectedRank).toBe(8);
    const plain: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
    knnPredict(sub.x, sub.y, sub.x, 192, { k: 10, dot: engineDot, projection: false, stats: plain });
    expect(plain.projectedRank).toBeUndefined();
  });
});
