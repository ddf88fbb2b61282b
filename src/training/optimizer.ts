import type { RunConfig } from "../config/schema.js";
import type { OptimizerSpec } from "../engine/types.js";

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
