/**
 * Optimisers with PyTorch's update rules (torch.optim.Adam, AdamW, SGD), so that configs mean the
 * same as in autrainer. Their state lives in tf variables and is saved and restored exactly, so a
 * resumed run continues bit for bit.
 * - Adam: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015 (bias-corrected).
 * - AdamW: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
 * - SGD: heavy-ball momentum as PyTorch (buffer starts at the first gradient), optional Nesterov,
 *   weight_decay as L2 added to the gradient.
 */
import * as tf from "@tensorflow/tfjs-core";
import { ConfigError } from "../util/errors.js";
import type { OptimizerSpec } from "./types.js";

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

export class EngineOptimizer {
  readonly spec: Required<Omit<OptimizerSpec, "type">> & { type: OptimizerSpec["type"] };
  learningRate: number;
  /** Number of updates applied so far (Adam's bias correction uses it). */
  step = 0;
  private readonly slots = new Map<string, tf.Variable[]>();

  constructor(spec: OptimizerSpec) {
    this.spec = normaliseOptimizerSpec(spec);
    this.learningRate = this.spec.learningRate;
  }

  /** Applies one update; call inside tf.tidy. `grads[i]` belongs to `vars[i]` (null: no gradient). */
  apply(vars: readonly tf.Variable[], grads: readonly (tf.Tensor | null)[]): void {
    this.step += 1;
    const s = this.spec;
    const lr = this.learningRate;
    vars.forEach((v, i) => {
      const g = grads[i];
      if (!g) return;
      if (s.type === "SGD") this.sgd(v, g, i, lr);
      else this.adam(v, g, i, lr);
    });
  }

  private adam(v: tf.Variable, g0: tf.Tensor, i: number, lr: number): void {
    const { beta1, beta2, epsilon, weightDecay, type } = this.spec;
    let g = g0;
    if (type === "AdamW") {
      if (weightDecay !== 0) v.assign(tf.mul(v, 1 - lr * weightDecay));
    } else if (weightDecay !== 0) {
      g = tf.add(g, tf.mul(v, weightDecay));
    }
    const m = this.slot("m", i, v);
    const u = this.slot("v", i, v);
    m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
    u.assign(tf.add(tf.mul(u, beta2), tf.mul(tf.square(g), 1 - beta2)));
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    // PyTorch: p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps)
    const denom = tf.add(tf.div(tf.sqrt(u), Math.sqrt(c2)), epsilon);
    v.assign(tf.sub(v, tf.mul(tf.div(m, denom), lr / c1)));
  }

  private sgd(v: tf.Variable, g0: tf.Tensor, i: number, lr: number): void {
    const { momentum, nesterov, weightDecay } = this.spec;
    let g = weightDecay !== 0 ? tf.add(g0, tf.mul(v, weightDecay)) : g0;
    if (momentum !== 0) {
      const fresh = !this.slots.has(`momentum:${i}`);
      const buf = this.slot("momentum", i, v);
      buf.assign(fresh ? g : tf.add(tf.mul(buf, momentum), g));
      g = nesterov ? tf.add(g, tf.mul(buf, momentum)) : buf;
    }
    v.assign(tf.sub(v, tf.mul(g, lr)));
  }

  private slot(name: string, i: number, like: tf.Variable): tf.Variable {
    const key = `${name}:${i}`;
    let list = this.slots.get(key);
    if (!list) {
      list = [tf.tidy(() => tf.variable(tf.zerosLike(like), false))];
      this.slots.set(key, list);
    }
    return list[0] as tf.Variable;
  }

  snapshot(): OptimizerSnapshot {
    const slots: SlotValues[] = [];
    for (const [key, [variable]] of this.slots) {
      const [slot, index] = key.split(":") as [string, string];
      const t = variable as tf.Variable;
      slots.push({
        slot,
        variable: Number(index),
        shape: t.shape.slice(),
        values: t.dataSync() as Float32Array,
      });
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
    this.disposeSlots();
    for (const s of snapshot.slots) {
      const target = vars[s.variable];
      if (!target || target.shape.join(",") !== s.shape.join(",")) {
        throw new Error(
          `optimiser slot ${s.slot} of variable ${s.variable} has shape [${s.shape}] that does not match the model`,
        );
      }
      this.slots.set(`${s.slot}:${s.variable}`, [
        tf.tidy(() => tf.variable(tf.tensor(s.values, s.shape), false)),
      ]);
    }
    this.step = snapshot.step;
    this.learningRate = snapshot.learningRate;
  }

  disposeSlots(): void {
    for (const [v] of this.slots.values()) v?.dispose();
    this.slots.clear();
  }
}

/** Fills PyTorch's defaults and validates; errors name the `optimizer.*` key. */
export function normaliseOptimizerSpec(spec: OptimizerSpec): EngineOptimizer["spec"] {
  if (!["Adam", "AdamW", "SGD"].includes(spec.type)) {
    throw new ConfigError(
      "optimizer.id",
      `unknown optimizer '${spec.type}'; expected one of: Adam, AdamW, SGD`,
    );
  }
  const num = (
    key: string,
    value: number | undefined,
    fallback: number,
    ok: (v: number) => boolean,
    what: string,
  ) => {
    const v = value ?? fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) {
      throw new ConfigError(`optimizer.${key}`, `expected ${what}, got ${JSON.stringify(value)}`);
    }
    return v;
  };
  const nonNeg = (v: number) => v >= 0;
  const unit = (v: number) => v >= 0 && v < 1;
  const out = {
    type: spec.type,
    learningRate: num("learning_rate", spec.learningRate, Number.NaN, (v) => v > 0, "a positive number"),
    momentum: num("momentum", spec.momentum, 0, unit, "a number in [0, 1)"),
    nesterov: spec.nesterov ?? false,
    weightDecay: num(
      "weight_decay",
      spec.weightDecay,
      spec.type === "AdamW" ? 0.01 : 0,
      nonNeg,
      "a number >= 0",
    ),
    beta1: num("beta1", spec.beta1, 0.9, unit, "a number in [0, 1)"),
    beta2: num("beta2", spec.beta2, 0.999, unit, "a number in [0, 1)"),
    epsilon: num("epsilon", spec.epsilon, 1e-8, (v) => v > 0, "a positive number"),
  };
  if (out.nesterov && out.momentum === 0) {
    throw new ConfigError("optimizer.nesterov", "Nesterov momentum requires momentum > 0 (as in PyTorch)");
  }
  return out;
}
