/**
 * PredictionDepth's k-NN on the torch engine: the engine's matrix primitive is libtorch's product,
 * which runs on the engine's threads by itself, so the k-NN calls it from this thread, and the
 * result equals the exact path's.
 */
import { beforeAll, expect, it } from "vitest";
import { initEngine, matrixPrimitive } from "../../src/engine/index.js";
import { type KnnStats, knnPredict, knnPredictParallel } from "../../src/scoring/math/knn.js";
import { softmaxLike } from "../support/knn-data.js";
import { describeTorch } from "../support/torch.js";

describeTorch("k-NN on the torch engine", () => {
  beforeAll(async () => {
    await initEngine({ engine: "torch", threads: 2 });
  });

  it("uses libtorch's product from this thread and equals the exact path", async () => {
    const matrix = matrixPrimitive();
    expect(matrix).toMatchObject({ engine: "torch", threadsPerCall: 2, workerInit: null });
    const { x, y } = softmaxLike(12, 1500);
    const stats: KnnStats = { tiles: 0, rescored: 0, overflows: 0 };
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
});
