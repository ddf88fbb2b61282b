/**
 * Audio CNN for log-mel spectrograms [frames, mels(, 1)], in the spirit of the CNN10/CNN14 family of
 * Kong et al., "PANNs: Large-Scale Pretrained Audio Neural Networks for Audio Pattern Recognition"
 * (IEEE/ACM TASLP 2020), scaled down: per block i `conv{i}` (3x3) `bn{i}` `relu{i}` `pool{i}` (2x2),
 * then global average pooling `gap` over time and frequency, `dropout0`, and the logits `linear0`.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import type { NetworkSpec } from "../engine/types.js";
import { ConfigError } from "../util/errors.js";
import { apply, batchNorm, conv, dense, maxPool, relu, type Sym, spatial } from "./blocks.js";
import { SeededDropout } from "./layers.js";
import { checkKeys, dropoutRate, positiveIntList } from "./params.js";

export const AUDIOCNN_PARAMS = ["channels", "dropout"] as const;

export function buildAudioCNN(spec: NetworkSpec): tfl.LayersModel {
  checkKeys("AudioCNN", spec.params, AUDIOCNN_PARAMS);
  const channels = positiveIntList(spec.params, "channels", [16, 32, 64]);
  const rate = dropoutRate(spec.params, "dropout", 0.2);
  const dims = spec.inputShape;
  if (!(dims.length === 2 || (dims.length === 3 && dims[2] === 1))) {
    throw new ConfigError(
      "model.type",
      `AudioCNN needs log-mel input [frames, mels] or [frames, mels, 1], got input shape [${dims.join(", ")}]`,
    );
  }
  const input = tfl.input({ shape: dims, name: "input" });
  let h: Sym = input;
  if (dims.length === 2) {
    h = apply(
      tfl.layers.reshape({ targetShape: [dims[0] as number, dims[1] as number, 1], name: "reshape" }),
      h,
    );
  }
  channels.forEach((filters, i) => {
    h = apply(conv(filters, 3, `conv${i}`), h);
    h = apply(batchNorm(`bn${i}`), h);
    h = apply(relu(`relu${i}`), h);
    h = apply(maxPool(...spatial(h), `pool${i}`), h);
  });
  h = apply(tfl.layers.globalAveragePooling2d({ name: "gap" }), h);
  h = apply(new SeededDropout({ rate, name: "dropout0" }), h);
  const logits = apply(dense(spec.outputDim, "linear0"), h);
  return tfl.model({ inputs: input, outputs: logits, name: "audiocnn" });
}
