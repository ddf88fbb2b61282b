import type { Dataset, Subset } from "../../data/types.js";
import { bestIteration, listIterations } from "../../results/run-folder.js";
import { readTrackerTable, type TrackerTable, trackerTablePath } from "../../results/tracker-table.js";
import { ConfigError, DataError } from "../../util/errors.js";
import { AbstractScore, type AtomicRun, type ScoreContext } from "../abstract-score.js";

/**
 * Base of the scores read from the trainer's online trackers (OnlineLoss, PassRate): the
 * `train_trackers.csv` the run wrote at the stop (the best iteration for `best`, the last
 * evaluation for `last`). The tables accumulate over the whole run up to that evaluation, so one
 * table is the score; reading it needs neither a model nor a forward pass. Trackers exist for the
 * train subset only.
 */
export abstract class TrackerScore extends AbstractScore {
  constructor(params: Record<string, unknown>, context: ScoreContext, source?: string) {
    super(params, context, source);
    if (this.subsetName !== "train") {
      throw new ConfigError(
        "curriculum.scoring.subset",
        `${this.constructor.name} reads the trainer's online trackers, which exist for the train subset only; got '${this.subsetName}'`,
        source,
      );
    }
  }

  /** The atomic runs of AbstractScore, with the table they read among their fingerprinted inputs. */
  override async preprocess(): Promise<AtomicRun[]> {
    return (await super.preprocess()).map((run) => {
      const folder = run.runDir ? this.stopFolder(run.runDir) : null;
      return folder ? { ...run, inputs: [...(run.inputs ?? []), trackerTablePath(folder)] } : run;
    });
  }

  protected async trackerTable(
    runDir: string,
  ): Promise<{ dataset: Dataset; subset: Subset; table: TrackerTable }> {
    const { dataset } = await this.loadRun(runDir);
    const subset = dataset.subset("train");
    const folder = this.stopFolder(runDir);
    if (!folder) {
      throw new DataError(`${runDir}: no iteration folder for stop='${String(this.params.stop)}'`);
    }
    return { dataset, subset, table: readTrackerTable(folder, subset) };
  }

  /** The iteration folder of the stop: the best iteration's, or the last evaluation's; null if none. */
  private stopFolder(runDir: string): string | null {
    const iterations = listIterations(runDir);
    const wanted = this.params.stop === "best" ? bestIteration(runDir) : iterations.at(-1)?.iteration;
    return iterations.find((it) => it.iteration === wanted)?.dir ?? null;
  }
}
