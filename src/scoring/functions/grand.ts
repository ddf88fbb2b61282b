import { importedRunNeedsModel } from "../../results/run-folder.js";
import { DataError } from "../../util/errors.js";
import { AbstractScore, type AtomicRun, type FinalScores, type ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";
import { grandLastLayer } from "../math/dynamics.js";
import { averageColumns } from "./average-columns.js";
import { EarlyIteration, iterationCandidates, usedIterations } from "./el2n.js";
import { TransferTeacher } from "./transfer-teacher.js";

/**
 * GraNd: the norm of the per-sample gradient of the cross-entropy with respect to the last linear
 * layer's weights and bias, exactly: with z = W h + b the gradient is (p − onehot(y)) hᵀ and
 * p − onehot(y), so its norm is ‖p − onehot(y)‖₂ · √(‖h‖² + 1). One forward pass of the model saved
 * at an early evaluation (`iteration`, default the first evaluation that holds a model) gives p and
 * h, the input of the last linear layer. A large norm is hard. Paul, Ganguli & Dziugaite, NeurIPS
 * 2021 (arXiv 2107.07075), who take the norm over all parameters; restricted to the last layer it
 * needs no per-sample backward pass. An ensemble averages the runs' norms.
 */
export class GraNd extends AbstractScore {
  static override readonly schema = ModelScoreParams.extend({ iteration: EarlyIteration });
  static override readonly reference =
    "Paul, Ganguli & Dziugaite, NeurIPS 2021, arXiv 2107.07075 (last-layer gradient norm)";

  protected override nameSuffix(requested: string): string[] {
    const it = this.params.iteration as number | null;
    return [...super.nameSuffix(requested), ...(it === null ? [] : [String(it)])];
  }

  async score(run: AtomicRun): Promise<ScoreResult> {
    const runDir = run.runDir as string;
    const imported = importedRunNeedsModel(runDir, "GraNd");
    if (imported) throw imported;
    const { config, dataset } = await this.loadRun(runDir);
    const subset = dataset.subset(this.subsetName);
    const iteration = this.params.iteration as number | null;
    const it = iterationCandidates(runDir, this.params.stop as "best" | "last", iteration).find(
      (candidate) => candidate.hasModel,
    );
    if (!it) {
      throw new DataError(
        `${runDir}: no evaluated iteration${iteration === null ? "" : ` ${iteration}`} up to stop='${this.params.stop}' ` +
          "holds a saved model; GraNd needs one forward pass of it (set save_frequency to keep early models)",
      );
    }
    const network = await this.loadNetwork(it.dir);
    const c = dataset.outputDim;
    const n = subset.size;
    const logits = new Float32Array(n * c);
    let h = new Float32Array(0);
    let d = 0;
    try {
      const layer = TransferTeacher.embeddingLayer(network);
      await this.forward(network, subset, {
        batchSize: this.batchSizeFor(config),
        layers: layer === "input" ? [] : [layer],
        onBatch: (result, batch, offset) => {
          const features = layer === "input" ? batch.x : result.layers[layer]?.data;
          if (!features) throw new DataError(`${it.dir}: the model has no layer '${layer}'`);
          const b = batch.y.length;
          if (d === 0) {
            d = features.length / b;
            h = new Float32Array(n * d);
          }
          h.set(features, offset * d);
          logits.set(result.logits, offset * c);
        },
      });
    } finally {
      network.dispose();
    }
    const grand = grandLastLayer(logits, h, d, subset.labels, c);
    return {
      subset,
      classNames: dataset.classNames,
      columns: { grand, iteration: new Float64Array(n).fill(it.iteration) },
    };
  }

  override postprocess(_scoreId: string, runs: readonly AtomicRun[]): FinalScores {
    const groups = this.readGroups(runs);
    const rows = averageColumns(groups, ["grand"]);
    return {
      rows,
      mean: Float64Array.from(rows.columns.get("grand") as Float64Array),
      card: { iteration: usedIterations(groups) },
    };
  }
}
