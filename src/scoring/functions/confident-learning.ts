import { join } from "node:path";
import { z } from "zod";
import { SCORE_MAPPINGS_FILE, SCORE_RUN_FILES, scoreTypeDir } from "../../config/layout.js";
import { parseRunConfig } from "../../config/parse.js";
import { importRecord, isRunFinished, readRunConfig } from "../../results/run-folder.js";
import { readScoreMappings } from "../../results/score-mappings.js";
import type { ScoreRows } from "../../results/score-table.js";
import { softmaxRows } from "../../training/measures/logits.js";
import { ConfigError, DataError } from "../../util/errors.js";
import { readYaml } from "../../util/yaml-io.js";
import type { AbstractScore, AtomicRun, FinalScores, ScoreResult } from "../abstract-score.js";
import { BaseScoreParams } from "../argument-schemas.js";
import { FILTER_BY_METHODS, type FilterBy, findLabelIssues } from "../math/label-issues.js";
import { resolveTrainingRuns } from "../runs.js";
import { averageColumns } from "./average-columns.js";
import { CVLoss, cvFold } from "./cv-loss.js";

/** Column of the out-of-sample probability of class k. */
export function probabilityColumn(k: number): string {
  return `p_${k}`;
}

/** How many probability columns (`p_<k>`) score rows carry. */
export function probabilityColumnCount(rows: ScoreRows): number {
  return [...rows.columns.keys()].filter((k) => /^p_\d+$/.test(k)).length;
}

/** The probabilities p_0 … p_{c−1} of score rows as an N × c row-major matrix; null when a column is missing. */
export function probabilityMatrix(rows: ScoreRows, c: number): Float64Array | null {
  const n = rows.index.length;
  const probs = new Float64Array(n * c);
  for (let k = 0; k < c; k++) {
    const column = rows.columns.get(probabilityColumn(k));
    if (!column) return null;
    for (let i = 0; i < n; i++) probs[i * c + k] = column[i] as number;
  }
  return probs;
}

/**
 * ConfidentLearning: label issues from out-of-sample probabilities (Northcutt, Jiang & Chuang,
 * "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 2021, arXiv 1911.00068;
 * cleanlab). The probabilities are the held-out predictions of CVLoss's k-fold models: either of a
 * computed CVLoss score (`cvloss: <score id>`, its trained folds are reused) or of folds this score
 * trains itself from `setup` (as CVLoss does). An ensemble averages the probabilities over setups.
 * The ranked score is the self-confidence p_y (high = easy, reversed); `label_issue` marks the
 * samples the `filter_by` method finds (default `prune_by_noise_rate` on the calibrated joint, as
 * cleanlab's `find_label_issues`; `confident_learning` is the off-diagonal of the confident joint:
 * with per-class thresholds t_j = mean p_j over the samples labelled j, a sample whose most probable
 * class among those with p_j ≥ t_j is not its label). The card counts the issues and gives the
 * confident and the calibrated joint.
 */
export class ConfidentLearning extends CVLoss {
  static override readonly schema = BaseScoreParams.extend({
    /** Id of a computed CVLoss score whose folds give the probabilities; null: train folds from `setup`. */
    cvloss: z.string().min(1).nullable().default(null),
    splits: z.number().int().default(3),
    setup: z.record(z.string(), z.unknown()).nullable().default(null),
    /**
     * Runs imported by `curricula import` whose recorded train logits are out-of-sample (e.g. a
     * cross-validation's held-out predictions); null: cvloss or setup.
     */
    run_name: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .nullable()
      .default(null),
    stop: z.string().default("best"),
    /** Which samples `label_issue` flags (src/scoring/math/label-issues.ts; cleanlab's default). */
    filter_by: z.enum(FILTER_BY_METHODS).default("prune_by_noise_rate"),
  });
  static override readonly reference = "Northcutt, Jiang & Chuang, JAIR 2021, arXiv 1911.00068 (cleanlab)";
  override reverseScore = true;

  constructor(...args: ConstructorParameters<typeof AbstractScore>) {
    super(...args);
    const hasCv = this.params.cvloss !== null;
    const hasSetup = this.params.setup !== null;
    if (this.params.run_name !== null) {
      if (hasCv || hasSetup) {
        throw new ConfigError(
          "curriculum.scoring.run_name",
          "give one of cvloss, setup or run_name (imported runs with out-of-sample logits), not several",
        );
      }
      return;
    }
    if (hasCv === hasSetup) {
      throw new ConfigError(
        hasCv ? "curriculum.scoring.setup" : "curriculum.scoring.cvloss",
        hasCv
          ? "give either cvloss (reuse a CVLoss score's folds) or setup (train folds here), not both"
          : "required value missing: give cvloss (the id of a computed CVLoss score), setup (a CVLoss setup to train folds from) " +
              "or run_name (runs imported with curricula import whose recorded train logits are out-of-sample)",
      );
    }
  }

  protected override nameTail(): string[] {
    return [(this.params.stop as string)[0] as string];
  }

  override async preprocess(): Promise<AtomicRun[]> {
    const runName = this.params.run_name as string | string[] | null;
    if (runName !== null) return this.recordedRuns(runName);
    const cvloss = this.params.cvloss as string | null;
    if (cvloss === null) {
      const runs = await super.preprocess();
      return runs.map((r) => ({ ...r, details: { ...r.details, splits: this.params.splits } }));
    }
    const { resultsDir, experimentId } = this.context;
    const folder = scoreTypeDir(resultsDir, experimentId, { type: "CVLoss", id: cvloss });
    const mappingsPath = join(folder, SCORE_MAPPINGS_FILE);
    const names = readScoreMappings(folder)[cvloss];
    if (!Array.isArray(names) || names.length === 0) {
      throw new ConfigError(
        "curriculum.scoring.cvloss",
        `no CVLoss score '${cvloss}' in ${mappingsPath} (compute it first: curricula curriculum curriculum/scoring=${cvloss})`,
      );
    }
    return names.map((value) => {
      const name = String(value);
      const runDir = join(folder, name);
      const split = /^(\d+)_(.+)$/.exec(name);
      if (!split)
        throw new DataError(`${mappingsPath}: ${cvloss}: '${name}' is not a CVLoss split run (<split>_…)`);
      if (!isRunFinished(runDir)) {
        throw new DataError(`${runDir}: the CVLoss split model has not finished training (no metrics.csv)`);
      }
      const scorePath = join(runDir, SCORE_RUN_FILES.score);
      const score = readYaml<Record<string, unknown>>(scorePath) ?? {};
      const splits = score.splits ?? 3;
      if (typeof splits !== "number") throw new DataError(`${scorePath}: splits: expected a number`);
      return {
        name,
        config: readYaml<Record<string, unknown>>(join(runDir, SCORE_RUN_FILES.config)),
        runDir,
        group: split[2] as string,
        details: { split: Number(split[1]), splits, cvloss },
      };
    });
  }

  /**
   * Imported runs (`curricula import`) as the source of the probabilities: their recorded train
   * logits at the stop are taken as out-of-sample. A trained run is refused: its train outputs come
   * from a model that trained on those samples.
   */
  private recordedRuns(runName: string | string[]): AtomicRun[] {
    const { resultsDir, experimentId } = this.context;
    return resolveTrainingRuns(resultsDir, experimentId, runName).map((run) => {
      if (!importRecord(run.dir)) {
        throw new ConfigError(
          "curriculum.scoring.run_name",
          `${run.dir} is a run trained here, whose train outputs are in-sample: run_name takes runs imported ` +
            "with curricula import whose recorded logits are out-of-sample; use cvloss or setup for k-fold models",
        );
      }
      return {
        name: [run.name, ...this.nameTail()].join("_"),
        config: readRunConfig(run.dir) as Record<string, unknown>,
        runDir: run.dir,
        details: { requested: run.requested, recorded: true },
      };
    });
  }

  /** The probabilities of an imported run: the softmax of its recorded train logits at the stop. */
  private async recordedProbabilities(run: AtomicRun): Promise<ScoreResult> {
    const { dataset, subset, logits } = await this.checkpointLogits(run.runDir as string);
    const c = dataset.outputDim;
    const probs = softmaxRows(logits, subset.size, c);
    const columns: Record<string, Float64Array> = {};
    for (let k = 0; k < c; k++) {
      columns[probabilityColumn(k)] = Float64Array.from(
        { length: subset.size },
        (_, i) => probs[i * c + k] as number,
      );
    }
    return { subset, classNames: dataset.classNames, columns };
  }

  override async score(run: AtomicRun): Promise<ScoreResult> {
    if (run.details?.recorded === true) return this.recordedProbabilities(run);
    const config = parseRunConfig(run.config);
    const fold = await cvFold(config, run.details?.splits as number, run.details?.split as number);
    const runDir = run.runDir ?? (await this.trainFold(run, config, fold));
    const logits = await this.heldOutLogits(runDir, config, fold);
    const c = fold.dataset.outputDim;
    const probs = softmaxRows(logits, fold.heldOut.length, c);
    const columns: Record<string, Float64Array> = {};
    for (let k = 0; k < c; k++) {
      columns[probabilityColumn(k)] = Float64Array.from(
        { length: fold.heldOut.length },
        (_, i) => probs[i * c + k] as number,
      );
    }
    return { subset: fold.subset, classNames: fold.dataset.classNames, positions: fold.heldOut, columns };
  }

  override postprocess(_scoreId: string, runs: readonly AtomicRun[]): FinalScores {
    const groups = this.readGroups(runs);
    const first = (groups[0] as (typeof groups)[number]).rows;
    const c = probabilityColumnCount(first);
    if (c < 2) throw new DataError(`${groups[0]?.label}: expected probability columns p_0, p_1, …`);
    const rows = averageColumns(
      groups,
      Array.from({ length: c }, (_, k) => probabilityColumn(k)),
    );
    const n = rows.index.length;
    const probs = probabilityMatrix(rows, c) as Float64Array;
    const filterBy = this.params.filter_by as FilterBy;
    const cj = findLabelIssues(probs, rows.encoded, c, filterBy);
    rows.text = new Map([["label_issue", Array.from(cj.issue, (v) => (v ? "true" : "false"))]]);
    const classNames = new Array<string>(c).fill("");
    rows.encoded.forEach((code, i) => {
      classNames[code] = rows.decoded[i] as string;
    });
    const label = (k: number) => classNames[k] || String(k);
    const issues = cj.issue.reduce((s, v) => s + v, 0);
    return {
      rows,
      mean: cj.selfConfidence,
      card: {
        filter_by: filterBy,
        label_issues: issues,
        label_issue_fraction: n > 0 ? issues / n : 0,
        thresholds: Object.fromEntries(Array.from(cj.thresholds, (t, k) => [label(k), t])),
        confident_joint: Object.fromEntries(
          Array.from({ length: c }, (_, i) => [label(i), Array.from(cj.joint.subarray(i * c, (i + 1) * c))]),
        ),
        calibrated_joint: Object.fromEntries(
          Array.from({ length: c }, (_, i) => [
            label(i),
            Array.from(cj.calibrated.subarray(i * c, (i + 1) * c)),
          ]),
        ),
        cvloss: this.params.cvloss,
        ...(this.params.run_name === null ? {} : { run_name: this.params.run_name }),
      },
    };
  }
}
