import { z } from "zod";
import { parseStep, probability, range } from "./options.js";
import type { StepFactory } from "./types.js";

const Schema = z.object({
  type: z.literal("Gain"),
  /** Range of the offset added to a log-mel sample, in dB (a gain of the audio by that many dB). */
  db: range([-6, 6]),
  p: probability(1),
});

/**
 * A random gain of a log-mel spectrogram sample: a uniform offset from `db` added to every value
 * (a gain of g dB adds g to 10·log10 of the power). With the dataset's `normalize`, values are in
 * standard deviations, so the offset is too.
 */
export const gain: StepFactory = (options, where) => {
  const o = parseStep(Schema, options, where);
  return {
    type: "Gain",
    p: o.p,
    apply(x, _shape, rng) {
      const g = o.db[0] + rng.random() * (o.db[1] - o.db[0]);
      for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + g;
    },
  };
};
