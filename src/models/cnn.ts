/**
 * Small 2-D conv net for 28x28 images, spectrograms or 8x8 digits ('same' padding keeps tiny inputs
 * valid): per channel entry i `conv{i}` (3x3) `relu{i}` `pool{i}` (2x2), then `flatten`, `linear0`
 * (hidden units), `relu{n}`, `dropout0`, `linear1` (logits). With the defaults: conv0(32) relu0 pool0
 * conv1(64) relu1 pool1 flatten linear0(128) relu2 dropout0 linear1. A `reshape` layer comes first when
 * the input is [h, w] or a flat square.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import type { NetworkSpec } from "../engine/types.js";
import { apply, conv, dense, maxPool, relu, type Sym, spatial } from "./blocks.js";
import { SeededDropout } from "./layers.js";
import { checkKeys, dropoutRate, imageShape, positiveInt, positiveIntList } from "./params.js";

export const CNN_PARAMS = ["channels", "hidden", "dropout"] as const;

export function buildCNN(spec: NetworkSpec): tfl.LayersModel {
  checkKeys("CNN", spec.params, CNN_PARAMS);
  const channels = positiveIntList(spec.params, "channels", [32, 64]);
  const hidden = positiveInt(spec.params, "hidden", 128);
  const rate = dropoutRate(spec.params, "dropout", 0.25);
  const shape = imageShape("CNN", spec.inputShape);
  const input = tfl.input({ shape: spec.inputShape, name: "input" });
  let h: Sym = input;
  if (spec.inputShape.length !== 3) h = apply(tfl.layers.reshape({ targetShape: shape, name: "reshape" }), h);
  channels.forEach((filters, i) => {
    h = apply(conv(filters, 3, `conv${i}`), h);
    h = apply(relu(`relu${i}`), h);
    h = apply(maxPool(...spatial(h), `pool${i}`), h);
  });
  h = apply(tfl.layers.flatten({ name: "flatten" }), h);
  h = apply(dense(hidden, "linear0"), h);
  h = apply(relu(`relu${channels.length}`), h);
  h = apply(new SeededDropout({ rate, name: "dropout0" }), h);
  const logits = apply(dense(spec.outputDim, "linear1"), h);
  return tfl.model({ inputs: input, outputs: logits, name: "cnn" });
}
