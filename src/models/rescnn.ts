/**
 * Small residual CNN (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016):
 * stem `conv0` `bn0` `relu0` `pool0`, then two residual blocks b = 1, 2, each
 * `block{b}_conv0` `block{b}_bn0` `block{b}_relu0` `block{b}_conv1` `block{b}_bn1`
 * (+ `block{b}_shortcut` 1x1 conv and `block{b}_shortcut_bn` when the width changes) `block{b}_add`
 * `block{b}_relu1`, with `pool1` between the blocks, then global average pooling `gap` and the logits
 * layer `linear0`. Downsampling uses max-pooling rather than strided convs (both blocks stay cheap
 * on the wasm backend, whose strided conv gradient is slow).
 */
import { ConfigError } from "../util/errors.js";
import { checkKeys, imageShape, positiveIntList } from "./arguments.js";
import { DescriptionBuilder, type Node } from "./builder.js";
import type { ModelDescription, NetworkSpec } from "./description.js";

export const RESCNN_PARAMS = ["channels"] as const;

export function describeResCNN(spec: NetworkSpec): ModelDescription {
  checkKeys("ResCNN", spec.params, RESCNN_PARAMS);
  const channels = positiveIntList(spec.params, "channels", [32, 32, 64]);
  if (channels.length !== 3) {
    throw new ConfigError(
      "model.channels",
      `ResCNN expects 3 widths [stem, block1, block2], got ${JSON.stringify(channels)}`,
    );
  }
  const [stem, w1, w2] = channels as [number, number, number];
  const shape = imageShape("ResCNN", spec.inputShape);
  const b = new DescriptionBuilder(spec);
  let h = b.input;
  if (spec.inputShape.length !== 3) h = b.reshape(h, shape);
  h = b.conv(h, stem, 3, "conv0");
  h = b.batchNorm(h, "bn0");
  h = b.relu(h, "relu0");
  h = b.maxPool(h, "pool0");
  h = residualBlock(b, h, stem, w1, "block1");
  h = b.maxPool(h, "pool1");
  h = residualBlock(b, h, w1, w2, "block2");
  h = b.globalAvgPool(h);
  return b.finish(b.linear(h, spec.outputDim, "linear0"));
}

/** conv-bn-relu-conv-bn + shortcut (identity, or 1x1 conv + bn when the width changes), add, relu. */
function residualBlock(
  b: DescriptionBuilder,
  x: Node,
  inWidth: number,
  outWidth: number,
  name: string,
): Node {
  let h = b.conv(x, outWidth, 3, `${name}_conv0`);
  h = b.batchNorm(h, `${name}_bn0`);
  h = b.relu(h, `${name}_relu0`);
  h = b.conv(h, outWidth, 3, `${name}_conv1`);
  // Layers of equal depth are listed conv1, shortcut, bn1, shortcut_bn (the order of the first
  // releases, so PredictionDepth probes keep their order).
  const projected = inWidth !== outWidth;
  let shortcut = projected ? b.conv(x, outWidth, 1, `${name}_shortcut`) : x;
  h = b.batchNorm(h, `${name}_bn1`);
  if (projected) shortcut = b.batchNorm(shortcut, `${name}_shortcut_bn`);
  h = b.add(h, shortcut, `${name}_add`);
  return b.relu(h, `${name}_relu1`);
}
