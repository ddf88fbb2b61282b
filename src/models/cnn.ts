/**
 * Small 2-D conv net for 28x28 images, spectrograms or 8x8 digits ('same' padding keeps tiny inputs
 * valid): per channel entry i `conv{i}` (3x3) `relu{i}` `pool{i}` (2x2), then `flatten`, `linear0`
 * (hidden units), `relu{n}`, `dropout0`, `linear1` (logits). With the defaults: conv0(32) relu0 pool0
 * conv1(64) relu1 pool1 flatten linear0(128) relu2 dropout0 linear1. A `reshape` layer comes first when
 * the input is [h, w] or a flat square.
 */

import { checkKeys, dropoutRate, imageShape, positiveInt, positiveIntList } from "./arguments.js";
import { DescriptionBuilder } from "./builder.js";
import type { ModelDescription, NetworkSpec } from "./description.js";

export const CNN_PARAMS = ["channels", "hidden", "dropout"] as const;

export function describeCNN(spec: NetworkSpec): ModelDescription {
  checkKeys("CNN", spec.params, CNN_PARAMS);
  const channels = positiveIntList(spec.params, "channels", [32, 64]);
  const hidden = positiveInt(spec.params, "hidden", 128);
  const rate = dropoutRate(spec.params, "dropout", 0.25);
  const shape = imageShape("CNN", spec.inputShape);
  const b = new DescriptionBuilder(spec);
  let h = b.input;
  if (spec.inputShape.length !== 3) h = b.reshape(h, shape);
  channels.forEach((filters, i) => {
    h = b.conv(h, filters, 3, `conv${i}`);
    h = b.relu(h, `relu${i}`);
    h = b.maxPool(h, `pool${i}`);
  });
  h = b.flatten(h);
  h = b.linear(h, hidden, "linear0");
  h = b.relu(h, `relu${channels.length}`);
  h = b.dropout(h, rate, "dropout0");
  return b.finish(b.linear(h, spec.outputDim, "linear1"));
}
