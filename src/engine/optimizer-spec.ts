/** Optimiser settings: from a run config, then with PyTorch's defaults filled in, shared by both engines. */
import type { RunConfig } from "../config/schema.js";
import { ConfigError } from "../util/errors.js";
import type { OptimizerSpec } from "./types.js";

/** The engine's optimiser spec from a run config's `optimizer` group and `learning_rate`. */
export function optimizerSpecFor(config: Pick<RunConfig, "optimizer" | "learning_rate">): OptimizerSpec {
  const o = config.optimizer;
  const spec: OptimizerSpec = { type: o.type, learningRate: config.learning_rate };
  if (o.momentum !== undefined) spec.momentum = o.momentum;
  if (o.nesterov !== undefined) spec.nesterov = o.nesterov;
  if (o.weight_decay !== undefined) spec.weightDecay = o.weight_decay;
  if (o.beta1 !== undefined) spec.beta1 = o.beta1;
  if (o.beta2 !== undefined) spec.beta2 = o.beta2;
  if (o.epsilon !== undefined) spec.epsilon = o.epsilon;
  return spec;
}

export type NormalisedOptimizerSpec = Required<Omit<OptimizerSpec, "type">> & { type: OptimizerSpec["type"] };

/** Fills PyTorch's defaults and validates; errors name the `optimizer.*` key. */
export function normaliseOptimizerSpec(spec: OptimizerSpec): NormalisedOptimizerSpec {
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
