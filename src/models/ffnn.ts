/** Fully connected network, as autrainer's FFNN: (Linear → ReLU → Dropout) per hidden layer, then Linear. */

import { checkKeys, dropoutRate, positiveIntList } from "./arguments.js";
import { DescriptionBuilder } from "./builder.js";
import type { ModelDescription, NetworkSpec } from "./description.js";

export const FFNN_PARAMS = ["hidden_sizes", "dropout"] as const;

/**
 * Layers: `flatten` (only for multi-dimensional input), then per hidden layer i `linear{i}`,
 * `relu{i}`, `dropout{i}`, then the logits layer `linear{k}` (k = number of hidden layers).
 */
export function describeFFNN(spec: NetworkSpec): ModelDescription {
  checkKeys("FFNN", spec.params, FFNN_PARAMS);
  const hidden = positiveIntList(spec.params, "hidden_sizes", [64], true);
  const rate = dropoutRate(spec.params, "dropout", 0.5);
  const b = new DescriptionBuilder(spec);
  let h = b.input;
  if (spec.inputShape.length > 1) h = b.flatten(h);
  hidden.forEach((units, i) => {
    h = b.linear(h, units, `linear${i}`);
    h = b.relu(h, `relu${i}`);
    h = b.dropout(h, rate, `dropout${i}`);
  });
  return b.finish(b.linear(h, spec.outputDim, `linear${hidden.length}`));
}
