import { z } from "zod";
import { parseStep, probability } from "./options.js";
import type { StepFactory } from "./types.js";

const Schema = z.object({
  type: z.literal("SpecAugment"),
  /** Number of time masks and their largest width in frames. */
  time_masks: z.number().int().min(0).default(2),
  time_width: z.number().int().min(0).default(20),
  /** Number of frequency masks and their largest width in mel bands. */
  freq_masks: z.number().int().min(0).default(2),
  freq_width: z.number().int().min(0).default(8),
  /** The masked value: a number, or `mean` (the sample's mean). */
  value: z.union([z.number(), z.literal("mean")]).default(0),
  p: probability(1),
});

/**
 * SpecAugment's masking (Park et al., Interspeech 2019; torchaudio's TimeMasking / FrequencyMasking)
 * on a spectrogram sample (frames × mel bands × 1): each mask has a width drawn uniformly from
 * 0 … max width and a uniformly drawn start, and is set to `value`.
 */
export const specAugment: StepFactory = (options, where) => {
  const o = parseStep(Schema, options, where);
  return {
    type: "SpecAugment",
    p: o.p,
    apply(x, [frames, bands, c], rng) {
      let value = typeof o.value === "number" ? o.value : 0;
      if (o.value === "mean") value = x.reduce((s, v) => s + v, 0) / x.length;
      const mask = (count: number, widest: number, size: number, set: (i: number) => void) => {
        for (let m = 0; m < count; m++) {
          const width = rng.int(Math.min(widest, size) + 1);
          const start = rng.int(size - width + 1);
          for (let i = start; i < start + width; i++) set(i);
        }
      };
      mask(o.time_masks, o.time_width, frames, (t) => {
        x.fill(value, t * bands * c, (t + 1) * bands * c);
      });
      mask(o.freq_masks, o.freq_width, bands, (f) => {
        for (let t = 0; t < frames; t++) for (let k = 0; k < c; k++) x[(t * bands + f) * c + k] = value;
      });
    },
  };
};
