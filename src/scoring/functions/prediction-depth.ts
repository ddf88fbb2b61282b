import { availableParallelism } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { RUN_FILES } from "../../config/layout.js";
import { applyPooling, type PoolPlan, planPooling } from "../../engine/pooling.js";
import { writeProbeEmbeddings } from "../../results/probe-embeddings.js";
import { checkpointDir } from "../../results/run-folder.js";
import { argmaxRow } from "../../training/metrics.js";
import { ConfigError } from "../../util/errors.js";
import { textSha256 } from "../../util/fingerprint.js";
import { createProgress } from "../../util/progress.js";
import { AbstractScore, type AtomicRun, type ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";
import { knnPredictParallel } from "../math/knn/index.js";

/** The input features and the (softmaxed) logits are always probes, first and last. */
export const INPUT_PROBE = "input";
export const OUTPUT_PROBE = "output";

/**
 * PredictionDepth: the earliest layer from which k-NN probes on the hidden representations agree
 * with the model's final prediction; samples decided early are easy. Baldock, Maennel & Neyshabur,
 * "Deep Learning Through the Lens of Example Difficulty", NeurIPS 2021 (arXiv 2106.09647).
 * Probes are fitted on the scored subset itself and all come from one forward pass.
 */
export class PredictionDepth extends AbstractScore {
  static override readonly schema = ModelScoreParams.extend({
    /** Regexes over layer names (full match), or a map from requested run name to such a list. */
    probe_placements: z.union([z.array(z.string()).min(1), z.record(z.string(), z.array(z.string()))]),
    max_embedding_size: z.number().int().positive().nullable().default(65536),
    match_dimensions: z.boolean().default(true),
    knn_n_neighbors: z.number().int().positive().default(30),
    save_embeddings: z.boolean().default(false),
    /** Threads of the k-NN probes (null: every available core); never changes the result. */
    knn_threads: z.number().int().positive().nullable().default(null),
  });
  static override readonly reference = "Baldock, Maennel & Neyshabur, NeurIPS 2021, arXiv 2106.09647";

  /** `<run>_<b|l>_<hash8>`: the hash covers placements, pooling and k (aucurriculum's scheme). */
  protected override nameSuffix(requested: string): string[] {
    const p = this.params;
    const py = (v: unknown) =>
      v === null ? "None" : typeof v === "boolean" ? (v ? "True" : "False") : String(v);
    const text =
      [...this.placementsFor(requested)].sort().join("") +
      py(p.max_embedding_size) +
      py(p.match_dimensions) +
      py(p.knn_n_neighbors);
    return [(p.stop as string)[0] as string, textSha256(text).slice(0, 8)];
  }

  placementsFor(requested: string): string[] {
    const placements = this.params.probe_placements as string[] | Record<string, string[]>;
    if (Array.isArray(placements)) return placements;
    const list = placements[requested];
    if (!list)
      throw new ConfigError(
        "curriculum.scoring.probe_placements",
        `Could not find probe placements for run_name=${requested}`,
      );
    return list;
  }

  /** Probes: the input, every layer whose name fully matches a pattern (in layer order), the output. */
  static probes(layerNames: readonly string[], patterns: readonly string[]): string[] {
    const regexes = patterns.map((p) => new RegExp(`^(?:${p})$`));
    const matched = layerNames.filter((name) => name !== INPUT_PROBE && regexes.some((r) => r.test(name)));
    return [INPUT_PROBE, ...matched, OUTPUT_PROBE];
  }

  async score(run: AtomicRun): Promise<ScoreResult> {
    const runDir = run.runDir as string;
    const { config, dataset, spec } = await this.loadRun(runDir);
    const subset = dataset.subset(this.subsetName);
    const network = await this.loadNetwork(checkpointDir(runDir, this.params.stop as "best" | "last"), {
      spec,
      configFile: join(runDir, RUN_FILES.config),
    });
    const patterns = this.placementsFor(String(run.details?.requested));
    const probes = PredictionDepth.probes(network.layerNames, patterns);
    const layers = probes.slice(1, -1);
    // The last layer produces the logits; its output is read from them rather than requested twice.
    const logitsLayer = network.layerNames[network.layerNames.length - 1];
    const requestedLayers = layers.filter((l) => l !== logitsLayer);
    const n = subset.size;
    const c = dataset.outputDim;
    const max = this.params.max_embedding_size as number | null;
    const match = this.params.match_dimensions as boolean;
    const plans: (PoolPlan | null)[] = probes.map(() => null);
    // The requested layers' plans, handed to the engine, which returns those outputs pooled (natively
    // on torch: only the pooled values cross into JS). They are planned from the first batch's output
    // shapes (every network, a TorchScript module's too, gives them by running), so that batch is
    // pooled here; the input and the softmaxed logits always are.
    let enginePool: Record<string, PoolPlan> | undefined;
    const pooledByEngine = probes.map((_, p) => p > 0 && p <= layers.length && layers[p - 1] !== logitsLayer);
    const embeddings: Float32Array[] = [];
    const modelPrediction = new Int32Array(n);
    const labels = new Int32Array(n);
    try {
      await this.forward(network, subset, {
        batchSize: this.batchSizeFor(config),
        layers: requestedLayers,
        pool: () => enginePool,
        onBatch: (result, batch, offset) => {
          const b = batch.y.length;
          labels.set(batch.y, offset);
          const outputs = [
            { data: batch.x, shape: [b, ...dataset.featureShape] },
            ...layers.map((l) =>
              l === logitsLayer ? { data: result.logits, shape: [b, c] } : (result.layers[l] ?? missing(l)),
            ),
            { data: softmaxRows(result.logits, b, c), shape: [b, c] },
          ];
          outputs.forEach((out, p) => {
            plans[p] ??= planPooling(out.shape, max, match);
            const plan = plans[p] as PoolPlan;
            embeddings[p] ??= new Float32Array(n * plan.size);
            const pooled = enginePool && pooledByEngine[p] ? out.data : applyPooling(plan, out.data, b);
            (embeddings[p] as Float32Array).set(pooled, offset * plan.size);
          });
          enginePool ??= Object.fromEntries(
            requestedLayers.map((l) => [l, plans[layers.indexOf(l) + 1] as PoolPlan]),
          );
          for (let i = 0; i < b; i++) modelPrediction[offset + i] = argmaxRow(result.logits, i, c);
        },
      });
    } finally {
      network.dispose();
    }
    const columns: Record<string, ArrayLike<number>> = {};
    const agree: Uint8Array[] = [];
    // The engine's matrix product (XNNPACK on wasm, one instance per worker thread) gives the k-NN its
    // float32 dot products; candidates are resolved exactly, so the result equals the JS path's. The
    // pure-JS cpu backend has no faster product: the exact path runs, on the same threads.
    const engine = await import("../../engine/index.js");
    await engine.initEngine();
    const matrix = engine.matrixPrimitive();
    // Default: this process's share of the cores (workers × threads per product stay within it).
    const threads =
      (this.params.knn_threads as number | null) ??
      engine.engineInfo()?.threadPlan?.share ??
      availableParallelism();
    const bar = createProgress("PredictionDepth k-NN probes", probes.length * n, {
      enabled: this.context.progress,
      unit: "samples",
    });
    try {
      await this.time("knn_fit", async () => {
        for (const [p] of probes.entries()) {
          const dim = (plans[p] as PoolPlan).size;
          const emb = embeddings[p] as Float32Array;
          const done = p * n;
          const predicted = await knnPredictParallel(emb, labels, emb, dim, {
            k: this.params.knn_n_neighbors as number,
            numClasses: c,
            matrix,
            threads,
            onProgress: (q) => bar.update(done + q),
          });
          columns[`probe_${p}`] = predicted;
          agree.push(Uint8Array.from(predicted, (v, i) => (v === modelPrediction[i] ? 1 : 0)));
          if (this.params.save_embeddings) {
            writeProbeEmbeddings(join(this.context.outputDirectory, run.name), p, emb, n, dim);
          }
        }
      });
    } finally {
      bar.stop();
    }
    columns.predictions = modelPrediction;
    columns.scores = predictionDepth(agree, n);
    return { subset, classNames: dataset.classNames, columns };
  }
}

/**
 * Depth score (P − L)/P, L = number of trailing probes (from the last backwards) whose k-NN prediction
 * equals the model's; 1 when even the last probe disagrees.
 */
export function predictionDepth(agree: readonly Uint8Array[], n: number): Float64Array {
  const p = agree.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let trailing = 0;
    for (let t = p - 1; t >= 0 && (agree[t] as Uint8Array)[i] === 1; t--) trailing++;
    out[i] = (p - trailing) / p;
  }
  return out;
}

function softmaxRows(logits: Float32Array, rows: number, width: number): Float32Array {
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < width; c++) max = Math.max(max, logits[r * width + c] as number);
    let sum = 0;
    for (let c = 0; c < width; c++) sum += Math.exp((logits[r * width + c] as number) - max);
    for (let c = 0; c < width; c++)
      out[r * width + c] = Math.exp((logits[r * width + c] as number) - max) / sum;
  }
  return out;
}

function missing(layer: string): never {
  throw new Error(`the forward pass did not return layer '${layer}'`);
}
