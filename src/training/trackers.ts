import type { TrackerTable } from "../results/tracker-table.js";

/**
 * The trainer's online difficulty trackers: per train sample, from the logits of the training
 * steps' own forward passes (training mode, before each step's update; Network.trainStep's
 * `logitsOut`), so they cost no forward pass of their own. Per sample they keep
 *
 * - attempts: the steps that had it in their batch;
 * - correct: those whose arg-max logit was its label (pass rate = correct / attempts);
 * - forgetting: attempts classified wrongly right after an attempt classified correctly (a
 *   forgetting event of Toneva et al., ICLR 2019, counted per presentation as in the paper);
 * - ema_loss: the exponential moving average of its softmax cross-entropy (float64 from the float32
 *   logits; no class or sample weights),
 *   ema ← β·ema + (1 − β)·loss with β = the run's `tracker_ema`.
 *
 * Cold start: a sample's first attempt sets its EMA to that attempt's loss (the EMA does not start
 * from a prior); a sample not trained on yet (attempts 0) is tabled as an untrained network would
 * score it: ema_loss = ln C (the cross-entropy of the uniform prediction over C classes) and
 * pass_rate = 0 (no pass seen).
 *
 * The state is saved with every checkpoint, so a resumed run writes the same tables.
 */

/** The trackers' checkpoint state (JSON; numbers round-trip exactly). */
export interface TrackerState {
  size: number;
  attempts: number[];
  correct: number[];
  forgetting: number[];
  /** 1 when the sample's last attempt was classified correctly. */
  lastCorrect: number[];
  /** The EMA of seen samples (0 for unseen ones). */
  emaLoss: number[];
}

export class OnlineTrackers {
  private readonly attempts: Int32Array;
  private readonly correct: Int32Array;
  private readonly forgetting: Int32Array;
  private readonly lastCorrect: Uint8Array;
  private readonly emaLoss: Float64Array;

  /** `size` train samples, `numClasses` logits per sample, `ema` the factor β in (0, 1). */
  constructor(
    readonly size: number,
    readonly numClasses: number,
    readonly ema: number,
  ) {
    if (!(ema > 0 && ema < 1)) throw new Error(`tracker_ema: expected a number in (0, 1), got ${ema}`);
    this.attempts = new Int32Array(size);
    this.correct = new Int32Array(size);
    this.forgetting = new Int32Array(size);
    this.lastCorrect = new Uint8Array(size);
    this.emaLoss = new Float64Array(size);
  }

  /** One training step's batch: `positions` (into the train subset), labels and the step's logits. */
  observe(positions: ArrayLike<number>, labels: Int32Array, logits: Float32Array): void {
    const c = this.numClasses;
    if (logits.length !== positions.length * c || labels.length !== positions.length) {
      throw new Error(
        `trackers: ${positions.length} positions, ${labels.length} labels and ${logits.length} logits do not form rows of ${c} classes`,
      );
    }
    const beta = this.ema;
    for (let i = 0, base = 0; i < positions.length; i++, base += c) {
      const p = positions[i] as number;
      const y = labels[i] as number;
      if (!(y >= 0 && y < c)) throw new Error(`trackers: label ${y} outside 0..${c - 1}`);
      // One pass per row: the first arg-max, then the softmax cross-entropy (log-sum-exp, float64).
      let best = 0;
      let max = logits[base] as number;
      for (let k = 1; k < c; k++) {
        const v = logits[base + k] as number;
        if (v > max) {
          max = v;
          best = k;
        }
      }
      let sum = 0;
      for (let k = 0; k < c; k++) sum += Math.exp((logits[base + k] as number) - max);
      const loss = Math.log(sum) + max - (logits[base + y] as number);
      const right = best === y ? 1 : 0;
      const seen = this.attempts[p] as number;
      if (seen > 0 && this.lastCorrect[p] === 1 && right === 0)
        this.forgetting[p] = (this.forgetting[p] as number) + 1;
      this.emaLoss[p] = seen === 0 ? loss : beta * (this.emaLoss[p] as number) + (1 - beta) * loss;
      this.attempts[p] = seen + 1;
      this.correct[p] = (this.correct[p] as number) + right;
      this.lastCorrect[p] = right;
    }
  }

  /**
   * The table of every sample (row = train position; `index` maps it into the full train subset
   * when training on part of it), unseen samples at their cold-start values.
   */
  table(sourceIndex: Int32Array, labels: Int32Array, indexMap?: ArrayLike<number>): TrackerTable {
    const n = this.size;
    const coldLoss = Math.log(this.numClasses);
    const passRate = new Float64Array(n);
    const emaLoss = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      const seen = this.attempts[p] as number;
      passRate[p] = seen > 0 ? (this.correct[p] as number) / seen : 0;
      emaLoss[p] = seen > 0 ? (this.emaLoss[p] as number) : coldLoss;
    }
    return {
      index: indexMap ? Int32Array.from(indexMap) : Int32Array.from({ length: n }, (_, p) => p),
      sourceIndex: Int32Array.from(sourceIndex),
      encoded: Int32Array.from(labels),
      attempts: Int32Array.from(this.attempts),
      correct: Int32Array.from(this.correct),
      forgetting: Int32Array.from(this.forgetting),
      passRate,
      emaLoss,
    };
  }

  getState(): TrackerState {
    return {
      size: this.size,
      attempts: Array.from(this.attempts),
      correct: Array.from(this.correct),
      forgetting: Array.from(this.forgetting),
      lastCorrect: Array.from(this.lastCorrect),
      emaLoss: Array.from(this.emaLoss),
    };
  }

  setState(state: TrackerState): void {
    const arrays = [state.attempts, state.correct, state.forgetting, state.lastCorrect, state.emaLoss];
    if (state.size !== this.size || arrays.some((a) => !Array.isArray(a) || a.length !== this.size)) {
      throw new Error(`trainer state: trackers of ${state.size} samples, the run trains on ${this.size}`);
    }
    this.attempts.set(state.attempts);
    this.correct.set(state.correct);
    this.forgetting.set(state.forgetting);
    this.lastCorrect.set(state.lastCorrect);
    this.emaLoss.set(state.emaLoss);
  }
}
