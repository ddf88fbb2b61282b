/** Optimiser settings with PyTorch's defaults filled in, shared by both engines. */
import { ConfigError } from "../util/errors.js";
import type { OptimizerSpec } from "./types.js";

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
