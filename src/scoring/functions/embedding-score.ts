import { z } from "zod";
import type { Subset } from "../../data/types.js";
import { DataError } from "../../util/errors.js";
import { AbstractScore, type AtomicRun } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";
import type { DotProducts } from "../math/knn.js";
import { TransferTeacher } from "./transfer-teacher.js";

/** Parameters of the scores computed in a trained model's embedding (Uniqueness, Representativeness). */
export const EmbeddingScoreParams = ModelScoreParams.extend({
  /** Layer whose output is the embedding; null = the layer before the last dense layer. */
  embedding_layer: z.string().nullable().default(null),
});

/** A subset's rows in a model's embedding: n × dim, row-major, in subset order. */
export interface Embedding {
  subset: Subset;
  classNames: readonly string[];
  x: Float32Array;
  n: number;
  dim: number;
}

/**
 * Base of the scores that measure samples in a trained run's embedding: the output of
 * `embedding_layer` (default: the layer before the last dense one, as TransferTeacher takes it, or
 * the input itself for a model with one dense layer) at the chosen checkpoint, for the scored subset.
 */
export abstract class EmbeddingScore extends AbstractScore {
  static override readonly schema: z.ZodObject = EmbeddingScoreParams;

  /** `<run>_<b|l>`, plus `_<layer>` when `embedding_layer` names one. */
  protected override nameSuffix(requested: string): string[] {
    const layer = this.params.embedding_layer as string | null;
    return [...super.nameSuffix(requested), ...(layer === null ? [] : [layer])];
  }

  protected async embedding(run: AtomicRun): Promise<Embedding> {
    const runDir = run.runDir as string;
    const { dataset } = await this.loadRun(runDir);
    const subset = dataset.subset(this.subsetName);
    const network = await this.loadNetwork(this.checkpoint(runDir));
    let dim = 0;
    let x = new Float32Array(0);
    try {
      const layer = (this.params.embedding_layer as string | null) ?? TransferTeacher.embeddingLayer(network);
      if (layer !== "input" && !network.layerNames.includes(layer))
        throw new DataError(
          `${runDir}: curriculum.scoring.embedding_layer: the model has no layer '${layer}' (expected input or one of ${network.layerNames.join(", ")})`,
        );
      await this.forward(network, subset, {
        batchSize: this.batchSizeFor(),
        layers: layer === "input" ? [] : [layer],
        onBatch: (result, batch, offset) => {
          const out = layer === "input" ? batch.x : result.layers[layer]?.data;
          if (!out) throw new DataError(`${runDir}: the model returned no output for layer '${layer}'`);
          if (dim === 0) {
            dim = out.length / batch.y.length;
            x = new Float32Array(subset.size * dim);
          }
          x.set(out, offset * dim);
        },
      });
    } finally {
      network.dispose();
    }
    return { subset, classNames: dataset.classNames, x, n: subset.size, dim };
  }

  /** The engine's float32 matrix product for large sets (exact float64 arithmetic below 4,096 rows). */
  protected async matrixProduct(n: number): Promise<DotProducts | undefined> {
    if (n < 4096) return undefined;
    const engine = await import("../../engine/index.js");
    await engine.initEngine();
    return engine.matrixPrimitive()?.matMulTransposed;
  }
}
