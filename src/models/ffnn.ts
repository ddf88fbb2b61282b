/** Fully connected network, as autrainer's FFNN: (Linear → ReLU → Dropout) per hidden layer, then Linear. */
import * as tfl from "@tensorflow/tfjs-layers";
import type { NetworkSpec } from "../engine/types.js";
import { dense } from "./blocks.js";
import { SeededDropout } from "./layers.js";
import { checkKeys, dropoutRate, positiveIntList } from "./params.js";

export const FFNN_PARAMS = ["hidden_sizes", "dropout"] as const;

/**
 * Layers: `flatten` (only for multi-dimensional input), then per hidden layer i `linear{i}`,
 * `relu{i}`, `dropout{i}`, then the logits layer `linear{k}` (k = number of hidden layers).
 */
export function buildFFNN(spec: NetworkSpec): tfl.LayersModel {
  checkKeys("FFNN", spec.params, FFNN_PARAMS);
  const hidden = positiveIntList(spec.params, "hidden_sizes", [64], true);
  const rate = dropoutRate(spec.params, "dropout", 0.5);
  const input = tfl.input({ shape: spec.inputShape, name: "input" });
  let h = input;
  if (spec.inputShape.length > 1) h = tfl.layers.flatten({ name: "flatten" }).apply(h) as tfl.SymbolicTensor;
  hidden.forEach((units, i) => {
    h = dense(units, `linear${i}`).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reLU({ name: `relu${i}` }).apply(h) as tfl.SymbolicTensor;
    h = new SeededDropout({ rate, name: `dropout${i}` }).apply(h) as tfl.SymbolicTensor;
  });
  const logits = dense(spec.outputDim, `linear${hidden.length}`).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: "ffnn" });
}
