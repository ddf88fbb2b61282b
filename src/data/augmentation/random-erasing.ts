import { z } from "zod";
import { parseStep, probability, range } from "./options.js";
import type { StepFactory } from "./types.js";

const Schema = z.object({
  type: z.literal("RandomErasing"),
  /** Range of the erased area as a fraction of the sample's. */
  scale: range([0.02, 0.33], 0),
  /** Range of the erased rectangle's aspect ratio, drawn log-uniformly. */
  ratio: range([0.3, 3.3], 0),
  value: z.number().default(0),
  p: probability(0.5),
});

/**
 * torchvision's `RandomErasing` (Zhong et al., 2020): up to 10 draws of an area and a log-uniform
 * aspect ratio for a rectangle that fits, set to `value` in every channel; nothing when none fits.
 */
export const randomErasing: StepFactory = (options, where) => {
  const o = parseStep(Schema, options, where);
  return {
    type: "RandomErasing",
    p: o.p,
    apply(x, [h, w, c], rng) {
      const area = h * w;
      const logLo = Math.log(o.ratio[0]);
      const logHi = Math.log(o.ratio[1]);
      for (let attempt = 0; attempt < 10; attempt++) {
        const target = area * (o.scale[0] + rng.random() * (o.scale[1] - o.scale[0]));
        const aspect = Math.exp(logLo + rng.random() * (logHi - logLo));
        const eh = Math.round(Math.sqrt(target * aspect));
        const ew = Math.round(Math.sqrt(target / aspect));
        if (!(eh < h && ew < w && eh > 0 && ew > 0)) continue;
        const top = rng.int(h - eh + 1);
        const left = rng.int(w - ew + 1);
        for (let y = top; y < top + eh; y++)
          for (let xx = left; xx < left + ew; xx++)
            for (let k = 0; k < c; k++) x[(y * w + xx) * c + k] = o.value;
        return;
      }
    },
  };
};
