/**
 * Small residual CNN (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016):
 * stem `conv0` `bn0` `relu0` `pool0`, then two residual blocks b = 1, 2, each
 * `block{b}_conv0` `block{b}_bn0` `block{b}_relu0` `block{b}_conv1` `block{b}_bn1`
 * (+ `block{b}_shortcut` 1x1 conv and `block{b}_shortcut_bn` when the width changes) `block{b}_add`
 * `block{b}_relu1`, with `pool1` between the blocks, then global average pooling `gap` and the logits
 * layer `linear0`. Downsampling uses max-pooling rather than strided convs (both blocks stay cheap
 * on the wasm backend, whose strided conv gradient is slow).
 */
import * as tfl from "@tensorflow/tfjs-layers";
import type { NetworkSpec } from "../engine/types.js";
import { ConfigError } from "../util/errors.js";
import { apply, batchNorm, conv, dense, maxPool, relu, type Sym, spatial } from "./blocks.js";
import { checkKeys, imageShape, positiveIntList } from "./params.js";

export const RESCNN_PARAMS = ["channels"] as const;

export function buildResCNN(spec: NetworkSpec): tfl.LayersModel {
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
  const input = tfl.input({ shape: spec.inputShape, name: "input" });
  let h: Sym = input;
  if (spec.inputShape.length !== 3) h = apply(tfl.layers.reshape({ targetShape: shape, name: "reshape" }), h);
  h = apply(conv(stem, 3, "conv0"), h);
  h = apply(batchNorm("bn0"), h);
  h = apply(relu("relu0"), h);
  h = apply(maxPool(...spatial(h), "pool0"), h);
  h = residualBlock(h, stem, w1, "block1");
  h = apply(maxPool(...spatial(h), "pool1"), h);
  h = residualBlock(h, w1, w2, "block2");
  h = apply(tfl.layers.globalAveragePooling2d({ name: "gap" }), h);
  const logits = apply(dense(spec.outputDim, "linear0"), h);
  return tfl.model({ inputs: input, outputs: logits, name: "rescnn" });
}

/** conv-bn-relu-conv-bn + shortcut (identity, or 1x1 conv + bn when the width changes), add, relu. */
function residualBlock(x: Sym, inWidth: number, outWidth: number, name: string): Sym {
  let h = apply(conv(outWidth, 3, `${name}_conv0`), x);
  h = apply(batchNorm(`${name}_bn0`), h);
  h = apply(relu(`${name}_relu0`), h);
  h = apply(conv(outWidth, 3, `${name}_conv1`), h);
  h = apply(batchNorm(`${name}_bn1`), h);
  let shortcut = x;
  if (inWidth !== outWidth) {
    shortcut = apply(conv(outWidth, 1, `${name}_shortcut`), x);
    shortcut = apply(batchNorm(`${name}_shortcut_bn`), shortcut);
  }
  h = apply(tfl.layers.add({ name: `${name}_add` }), [h, shortcut]);
  return apply(relu(`${name}_relu1`), h);
}
