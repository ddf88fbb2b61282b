/**
 * Audio CNN for log-mel spectrograms [frames, mels(, 1)], in the spirit of the CNN10/CNN14 family of
 * Kong et al., "PANNs: Large-Scale Pretrained Audio Neural Networks for Audio Pattern Recognition"
 * (IEEE/ACM TASLP 2020), scaled down: per block i `conv{i}` (3x3) `bn{i}` `relu{i}` `pool{i}` (2x2),
 * then global average pooling `gap` over time and frequency, `dropout0`, and the logits `linear0`.
 */
import { ConfigError } from "../util/errors.js";
import { checkKeys, dropoutRate, positiveIntList } from "./arguments.js";
import { DescriptionBuilder } from "./builder.js";
import type { ModelDescription, NetworkSpec } from "./description.js";

export const AUDIOCNN_PARAMS = ["channels", "dropout"] as const;

export function describeAudioCNN(spec: NetworkSpec): ModelDescription {
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
  const b = new DescriptionBuilder(spec);
  let h = b.input;
  if (dims.length === 2) h = b.reshape(h, [dims[0] as number, dims[1] as number, 1]);
  channels.forEach((filters, i) => {
    h = b.conv(h, filters, 3, `conv${i}`);
    h = b.batchNorm(h, `bn${i}`);
    h = b.relu(h, `relu${i}`);
    h = b.maxPool(h, `pool${i}`);
  });
  h = b.globalAvgPool(h);
  h = b.dropout(h, rate, "dropout0");
  return b.finish(b.linear(h, spec.outputDim, "linear0"));
}
