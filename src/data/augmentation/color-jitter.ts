import { z } from "zod";
import { parseStep, probability } from "./options.js";
import type { StepFactory } from "./types.js";

const Schema = z.object({
  type: z.literal("ColorJitter"),
  brightness: z.number().min(0).default(0),
  contrast: z.number().min(0).default(0),
  saturation: z.number().min(0).default(0),
  p: probability(1),
});

/** A factor drawn uniformly from [max(0, 1 − s), 1 + s] (1 when s is 0, without a draw). */
function factor(strength: number, draw: () => number): number {
  if (strength === 0) return 1;
  const lo = Math.max(0, 1 - strength);
  return lo + draw() * (1 + strength - lo);
}

/**
 * torchvision's `ColorJitter(brightness, contrast, saturation)` in a fixed order (brightness,
 * contrast, saturation; torchvision shuffles it), on the model's input values: brightness scales
 * them, contrast blends each value with the sample's mean grey level, saturation (3 channels only)
 * with the pixel's own grey level (ITU-R 601 weights, as torchvision's rgb_to_grayscale).
 */
export const colorJitter: StepFactory = (options, where) => {
  const o = parseStep(Schema, options, where);
  return {
    type: "ColorJitter",
    p: o.p,
    apply(x, [h, w, c], rng) {
      const draw = () => rng.random();
      const b = factor(o.brightness, draw);
      const ct = factor(o.contrast, draw);
      const s = c === 3 ? factor(o.saturation, draw) : 1;
      const n = h * w;
      const grey = (i: number) =>
        c === 3
          ? 0.299 * (x[i * 3] as number) + 0.587 * (x[i * 3 + 1] as number) + 0.114 * (x[i * 3 + 2] as number)
          : (x[i] as number);
      if (b !== 1) for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * b;
      if (ct !== 1) {
        let mean = 0;
        for (let i = 0; i < n; i++) mean += grey(i);
        mean /= n;
        for (let i = 0; i < x.length; i++) x[i] = ct * (x[i] as number) + (1 - ct) * mean;
      }
      if (s !== 1) {
        for (let i = 0; i < n; i++) {
          const g = grey(i);
          for (let k = 0; k < 3; k++) x[i * 3 + k] = s * (x[i * 3 + k] as number) + (1 - s) * g;
        }
      }
    },
  };
};
