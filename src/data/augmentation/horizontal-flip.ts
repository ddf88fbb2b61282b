import { z } from "zod";
import { parseStep, probability } from "./options.js";
import type { StepFactory } from "./types.js";

const Schema = z.object({ type: z.literal("RandomHorizontalFlip"), p: probability(0.5) });

/** torchvision's `RandomHorizontalFlip`: mirrors the sample left to right. */
export const randomHorizontalFlip: StepFactory = (options, where) => {
  const o = parseStep(Schema, options, where);
  return {
    type: "RandomHorizontalFlip",
    p: o.p,
    apply(x, [h, w, c]) {
      for (let y = 0; y < h; y++)
        for (let a = 0, b = w - 1; a < b; a++, b--)
          for (let k = 0; k < c; k++) {
            const i = (y * w + a) * c + k;
            const j = (y * w + b) * c + k;
            const t = x[i] as number;
            x[i] = x[j] as number;
            x[j] = t;
          }
    },
  };
};
