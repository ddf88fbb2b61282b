import { existsSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import { MODEL_FILES } from "../../config/layout.js";
import type { Network } from "../../engine/types.js";
import { TORCHSCRIPT } from "../../models/index.js";
import { checkpointDir, hasModelCheckpoint, readRunConfig } from "../../results/run-folder.js";
import { ConfigError, DataError } from "../../util/errors.js";
import { loadNpy } from "../../util/npy.js";
import { AbstractScore, type AtomicRun, type ScoreResult } from "../abstract-score.js";
import { BaseScoreParams } from "../argument-schemas.js";
import { gammaScale, parseLibsvmModel, trueClassMargins } from "../math/svm.js";
import { resolveTrainingRuns } from "../runs.js";
import { loadLibsvm } from "../svm-loader.js";

/** Names of dense (fully connected) layers in curricula's models. */
const DENSE_LAYER = /^(linear|dense|fc)\d*$/;

/**
 * TransferTeacher: a teacher network's penultimate representation is fed to an RBF SVM (C = 1,
 * gamma = "scale", Platt-scaled probabilities); the probability of the true class is the score, so
 * high is easy (ranked in reverse). `margin: true` scores the signed one-vs-one decision margin of the
 * true class instead. The "transfer scoring function" of Hacohen & Weinshall, ICML 2019
 * (arXiv 1904.03626).
 */
export class TransferTeacher extends AbstractScore {
  static override readonly schema = BaseScoreParams.extend({
    /**
     * Teacher(s): training run names (checkpoint by `stop`), folders holding a saved model, or
     * TorchScript files (torch engine). Null when `features` gives the embeddings.
     */
    model: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .nullable()
      .default(null),
    /**
     * Embeddings computed elsewhere instead of a teacher: a `.npy` of n × d values, one row per
     * sample of the scored subset, rows in ascending `source_index` order.
     */
    features: z.string().min(1).nullable().default(null),
    dataset: z.string().min(1),
    stop: z.string().default("best"),
    /** Layer whose output is the embedding; null = the layer before the last dense layer. */
    embedding_layer: z.string().nullable().default(null),
    margin: z.boolean().default(false),
  });
  static override readonly reference = "Hacohen & Weinshall, ICML 2019, arXiv 1904.03626 (transfer scoring)";
  override reverseScore = true;

  override async preprocess(): Promise<AtomicRun[]> {
    const dataset = this.namedDatasetConfig();
    const suffix = this.params.margin ? "_margin" : "";
    const features = this.params.features as string | null;
    const model = this.params.model as string | string[] | null;
    if ((features === null) === (model === null)) {
      throw new ConfigError(
        "curriculum.scoring.model",
        "TransferTeacher takes a teacher (model: training run names, model folders or TorchScript files) or precomputed embeddings (features: a .npy file), exactly one of them",
      );
    }
    if (features !== null) {
      const file = resolve(features);
      if (!existsSync(file)) throw new ConfigError("curriculum.scoring.features", `${file} does not exist`);
      return [
        {
          name: `${basename(file).replace(/\.npy$/, "")}_${dataset.id}${suffix}`,
          config: { features: file, dataset },
          details: { features: file },
          inputs: [file],
        },
      ];
    }
    const runs: AtomicRun[] = [];
    for (const model of [this.params.model as string | string[]].flat()) {
      const folder = resolve(model);
      if (existsSync(folder) && statSync(folder).isFile()) {
        // A TorchScript teacher.
        runs.push({
          name: `${basename(folder).replace(/\.(pt|pth)$/, "")}_${dataset.id}${suffix}`,
          config: { model: folder, dataset, embedding_layer: this.params.embedding_layer },
          details: { script: folder },
          inputs: [folder],
        });
        continue;
      }
      if (hasModelCheckpoint(folder)) {
        runs.push({
          name: `${basename(folder)}_${dataset.id}${suffix}`,
          config: { model: folder, dataset },
          details: { modelDir: folder },
          inputs: modelFiles(folder),
        });
        continue;
      }
      for (const run of resolveTrainingRuns(this.context.resultsDir, this.context.experimentId, model)) {
        const modelDir = checkpointDir(run.dir, this.params.stop as "best" | "last");
        runs.push({
          name: `${run.name}_${dataset.id}${suffix}`,
          config: {
            model: readRunConfig(run.dir) as Record<string, unknown>,
            dataset,
            stop: this.params.stop,
          },
          runDir: run.dir,
          details: { modelDir },
          inputs: modelFiles(modelDir),
        });
      }
    }
    return runs.filter((r, i) => runs.findIndex((o) => o.name === r.name) === i);
  }

  /**
   * The layer before the last dense layer (the teacher's penultimate representation); a TorchScript
   * module's `embeddings(x)`.
   */
  static embeddingLayer(network: Network): string {
    const names = network.layerNames;
    if (network.spec.type === TORCHSCRIPT) {
      if (names.includes("embeddings")) return "embeddings";
      throw new DataError(
        `the TorchScript module ${String(network.spec.params.path)} has no embeddings(x) method; add one (docs/models.md) or set embedding_layer: forward to use its logits`,
      );
    }
    let last = -1;
    names.forEach((name, i) => {
      if (DENSE_LAYER.test(name)) last = i;
    });
    if (last < 0)
      throw new DataError(`no dense layer (linear*) among the teacher's layers: ${names.join(", ")}`);
    return last === 0 ? "input" : (names[last - 1] as string);
  }

  async score(run: AtomicRun): Promise<ScoreResult> {
    const dataset = await this.namedDataset();
    const subset = dataset.subset(this.subsetName);
    if (typeof run.details?.features === "string") {
      const { x, dim } = readFeatures(run.details.features, subset.sourceIndex);
      const scores = await this.time("svm", () => this.svmScores(x, dim, subset.labels));
      return { subset, classNames: dataset.classNames, columns: { scores } };
    }
    const network =
      typeof run.details?.script === "string"
        ? await this.loadScript(run.details.script, dataset.featureShape)
        : await this.loadNetwork(run.details?.modelDir as string);
    const inputSize = network.spec.inputShape.reduce((a, b) => a * b, 1);
    const featureSize = dataset.featureShape.reduce((a, b) => a * b, 1);
    if (inputSize !== featureSize) {
      network.dispose();
      throw new DataError(
        `teacher ${run.name} expects inputs of shape [${network.spec.inputShape}], ${dataset.id} has [${dataset.featureShape}]`,
      );
    }
    const layer = (this.params.embedding_layer as string | null) ?? TransferTeacher.embeddingLayer(network);
    let dim = 0;
    let embeddings = new Float32Array(0);
    try {
      await this.forward(network, subset, {
        batchSize: this.batchSizeFor(),
        layers: layer === "input" ? [] : [layer],
        onBatch: (result, batch, offset) => {
          const out = layer === "input" ? { data: batch.x } : (result.layers[layer] ?? { data: null });
          if (!out.data)
            throw new DataError(
              `the teacher has no layer '${layer}' (layers: ${network.layerNames.join(", ")})`,
            );
          const b = batch.y.length;
          if (dim === 0) {
            dim = out.data.length / b;
            embeddings = new Float32Array(subset.size * dim);
          }
          embeddings.set(out.data, offset * dim);
        },
      });
    } finally {
      network.dispose();
    }
    const scores = await this.time("svm", () => this.svmScores(embeddings, dim, subset.labels));
    return { subset, classNames: dataset.classNames, columns: { scores } };
  }

  /** A TorchScript teacher on the torch engine (its classes need not be the dataset's). */
  private async loadScript(file: string, featureShape: readonly number[]): Promise<Network> {
    const engine = await import("../../engine/index.js");
    await engine.initEngine({ engine: "torch" });
    return this.time("model_load", () =>
      engine.createNetwork(
        { type: TORCHSCRIPT, inputShape: [...featureShape], outputDim: 0, params: { path: file } },
        null,
        0,
      ),
    );
  }

  private async svmScores(x: Float32Array, dim: number, labels: Int32Array): Promise<Float64Array> {
    const SVM = await loadLibsvm();
    const gamma = gammaScale(x, dim);
    const svm = new SVM({
      kernel: SVM.KERNEL_TYPES.RBF,
      type: SVM.SVM_TYPES.C_SVC,
      gamma,
      cost: 1,
      probabilityEstimates: !this.params.margin,
      quiet: true,
    });
    const rows = Array.from({ length: labels.length }, (_, i) =>
      Array.from(x.subarray(i * dim, (i + 1) * dim)),
    );
    try {
      svm.train(rows, Array.from(labels));
      if (this.params.margin) return trueClassMargins(parseLibsvmModel(svm.serializeModel(), dim), x, labels);
      return Float64Array.from(
        svm.predictProbability(rows),
        (p, i) => p.estimates.find((e) => e.label === labels[i])?.probability ?? 0,
      );
    } finally {
      svm.free();
    }
  }
}

/**
 * Embeddings from a `.npy` file (n × d, rows in ascending source index order) as rows in subset
 * order: the row count must be the subset's size and every value finite.
 */
function readFeatures(file: string, sourceIndex: Int32Array): { x: Float32Array; dim: number } {
  const { data, shape } = loadNpy(file);
  const n = sourceIndex.length;
  if (!(data instanceof Float32Array || data instanceof Float64Array) || shape.length !== 2) {
    throw new DataError(
      `${file} (curriculum.scoring.features): expected a float32 or float64 array of shape [n, d], got ${data.constructor.name} of shape [${shape.join(", ")}]`,
    );
  }
  const [rows, dim] = shape as [number, number];
  if (rows !== n) {
    throw new DataError(
      `${file} (curriculum.scoring.features): ${rows} rows, the scored subset has ${n} samples (one row per sample, in source_index order)`,
    );
  }
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new DataError(
      `${file} (curriculum.scoring.features): row ${Math.floor(bad / dim)}, column ${bad % dim} is ${data[bad]}; every value must be finite`,
    );
  }
  // Row r belongs to the sample with the r-th smallest source index.
  const order = Array.from(sourceIndex.keys()).sort(
    (a, b) => (sourceIndex[a] as number) - (sourceIndex[b] as number),
  );
  const x = new Float32Array(n * dim);
  order.forEach((position, row) => {
    x.set(data.subarray(row * dim, (row + 1) * dim), position * dim);
  });
  return { x, dim };
}

/** The model files of a checkpoint folder (either format), for the score's input fingerprint. */
function modelFiles(dir: string): string[] {
  return [MODEL_FILES.model, MODEL_FILES.legacyModel, MODEL_FILES.legacyWeights].map((f) => join(dir, f));
}
