/**
 * Optimisers with PyTorch's update rules (torch.optim.Adam, AdamW, SGD), so that configs mean the
 * same as in autrainer. The update is one fused loop per variable over typed arrays (read the
 * gradient and the weights once, write the weights once) instead of a dozen small tensor ops per
 * variable; the slots (moments, momentum buffers) live in JS Float32Arrays and are saved and
 * restored exactly, so a resumed run continues bit for bit.
 * - Adam: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015 (bias-corrected).
 * - AdamW: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
 * - SGD: heavy-ball momentum as PyTorch (buffer starts at the first gradient), optional Nesterov,
 *   weight_decay as L2 added to the gradient.
 */
import * as tf from "@tensorflow/tfjs-core";
import { ConfigError } from "../../util/errors.js";
import { type NormalisedOptimizerSpec, normaliseOptimizerSpec } from "../optimizer-spec.js";
import type { OptimizerSpec } from "../types.js";

/** One saved slot tensor (e.g. Adam's first moment of one variable). */
export interface SlotValues {
  slot: string;
  variable: number;
  shape: number[];
  values: Float32Array;
}

export interface OptimizerSnapshot {
  type: OptimizerSpec["type"];
  learningRate: number;
  step: number;
  slots: SlotValues[];
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** Decoupled decay (AdamW) instead of L2 added to the gradient (Adam). */
  decoupled: boolean;
  /** 1-based step count for the bias correction. */
  step: number;
}

/**
 * One Adam/AdamW step in place over `p` (weights), `m`, `v` (moments) given the gradient `g`,
 * in PyTorch's order: decay, moments, p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps). Arithmetic in
 * float64, stored as float32.
 */
export function adamUpdate(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  h: AdamHyper,
): void {
  const { beta1, beta2, epsilon, weightDecay } = h;
  const stepSize = h.lr / (1 - beta1 ** h.step);
  const sqrtC2 = Math.sqrt(1 - beta2 ** h.step);
  const decay = h.decoupled ? 1 - h.lr * weightDecay : 1;
  const l2 = h.decoupled ? 0 : weightDecay;
  const b1 = 1 - beta1;
  const b2 = 1 - beta2;
  for (let i = 0; i < p.length; i++) {
    let w = p[i] as number;
    let gi = g[i] as number;
    if (l2 !== 0) gi += l2 * w;
    w *= decay;
    const mi = Math.fround(beta1 * (m[i] as number) + b1 * gi);
    const vi = Math.fround(beta2 * (v[i] as number) + b2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = w - (stepSize * mi) / (Math.sqrt(vi) / sqrtC2 + epsilon);
  }
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

/**
 * One SGD step in place over `p`, as torch.optim.SGD: g += wd*p; with momentum the buffer `buf`
 * (null without momentum) becomes g on the first step (`fresh`) and momentum*buf + g later; the
 * step uses buf, or g + momentum*buf with Nesterov.
 */
export function sgdUpdate(
  p: Float32Array,
  g: Float32Array,
  buf: Float32Array | null,
  fresh: boolean,
  h: SgdHyper,
): void {
  const { lr, momentum, nesterov, weightDecay } = h;
  for (let i = 0; i < p.length; i++) {
    const w = p[i] as number;
    let gi = g[i] as number;
    if (weightDecay !== 0) gi += weightDecay * w;
    if (buf) {
      const b = Math.fround(fresh ? gi : momentum * (buf[i] as number) + gi);
      buf[i] = b;
      gi = nesterov ? gi + momentum * b : b;
    }
    p[i] = w - lr * gi;
  }
}

export { normaliseOptimizerSpec };

export class EngineOptimizer {
  readonly spec: NormalisedOptimizerSpec;
  learningRate: number;
  /** Number of updates applied so far (Adam's bias correction uses it). */
  step = 0;
  /** Slot arrays by `<slot>:<variable index>` (m, v for Adam/AdamW; momentum for SGD). */
  private readonly slots = new Map<string, { shape: number[]; values: Float32Array }>();

  constructor(spec: OptimizerSpec) {
    this.spec = normaliseOptimizerSpec(spec);
    this.learningRate = this.spec.learningRate;
  }

  /**
   * Applies one update; call inside tf.tidy. `grads[i]` belongs to `vars[i]` (null: no gradient,
   * the variable is left alone). Reads each gradient and weight once and assigns the new weights.
   */
  apply(vars: readonly tf.Variable[], grads: readonly (tf.Tensor | null)[]): void {
    this.step += 1;
    const s = this.spec;
    const lr = this.learningRate;
    vars.forEach((variable, i) => {
      const grad = grads[i];
      if (!grad) return;
      // A copy: the cpu backend's dataSync returns its own storage.
      const p = (variable.dataSync() as Float32Array).slice();
      const g = grad.dataSync() as Float32Array;
      if (s.type === "SGD") {
        const fresh = !this.slots.has(`momentum:${i}`);
        const buf = s.momentum !== 0 ? this.slot("momentum", i, variable) : null;
        sgdUpdate(p, g, buf, fresh, {
          lr,
          momentum: s.momentum,
          nesterov: s.nesterov,
          weightDecay: s.weightDecay,
        });
      } else {
        adamUpdate(p, g, this.slot("m", i, variable), this.slot("v", i, variable), {
          lr,
          beta1: s.beta1,
          beta2: s.beta2,
          epsilon: s.epsilon,
          weightDecay: s.weightDecay,
          decoupled: s.type === "AdamW",
          step: this.step,
        });
      }
      variable.assign(tf.tensor(p, variable.shape, "float32"));
    });
  }

  private slot(name: string, i: number, like: tf.Variable): Float32Array {
    const key = `${name}:${i}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { shape: like.shape.slice(), values: new Float32Array(like.size) };
      this.slots.set(key, slot);
    }
    return slot.values;
  }

  snapshot(): OptimizerSnapshot {
    const slots: SlotValues[] = [];
    for (const [key, { shape, values }] of this.slots) {
      const [slot, index] = key.split(":") as [string, string];
      slots.push({ slot, variable: Number(index), shape: shape.slice(), values: values.slice() });
    }
    slots.sort((a, b) => a.variable - b.variable || a.slot.localeCompare(b.slot));
    return { type: this.spec.type, learningRate: this.learningRate, step: this.step, slots };
  }

  /** Restores a snapshot taken of an optimiser of the same type over variables of the same shapes. */
  restore(snapshot: OptimizerSnapshot, vars: readonly tf.Variable[]): void {
    if (snapshot.type !== this.spec.type) {
      throw new ConfigError(
        "optimizer.id",
        `saved optimiser state is ${snapshot.type}, the run uses ${this.spec.type}`,
      );
    }
    for (const s of snapshot.slots) {
      const target = vars[s.variable];
      if (!target || target.shape.join(",") !== s.shape.join(",") || s.values.length !== target.size) {
        throw new Error(
          `optimiser slot ${s.slot} of variable ${s.variable} has shape [${s.shape}] that does not match the model`,
        );
      }
    }
    this.disposeSlots();
    for (const s of snapshot.slots) {
      this.slots.set(`${s.slot}:${s.variable}`, {
        shape: s.shape.slice(),
        values: Float32Array.from(s.values),
      });
    }
    this.step = snapshot.step;
    this.learningRate = snapshot.learningRate;
  }

  /** Drops the optimiser state (the slots hold no tensors any more; kept for the Network's dispose). */
  disposeSlots(): void {
    this.slots.clear();
  }
}
