import { z } from "zod";
import { parseStep, probability } from "./options.js";
import type { AugmentationStep, StepFactory } from "./types.js";

const Schema = z.object({
  type: z.literal("RandomCrop"),
  /** Pixels added on every side before cropping back to the sample's size (CIFAR: 4). */
  padding: z.number().int().min(0).default(4),
  /** How the padding is filled: `constant` (`fill`), `edge` (the border pixel) or `reflect` (mirrored, without the edge). */
  padding_mode: z.enum(["constant", "edge", "reflect"]).default("constant"),
  fill: z.number().default(0),
  p: probability(1),
});

/** Index into 0..n−1 of a padded coordinate, by padding mode (null: constant fill). */
export function padIndex(i: number, n: number, mode: "constant" | "edge" | "reflect"): number | null {
  if (i >= 0 && i < n) return i;
  if (mode === "constant") return null;
  if (mode === "edge") return i < 0 ? 0 : n - 1;
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/**
 * torchvision's `RandomCrop(size, padding)` at the sample's own size: pad every side by `padding`,
 * then cut a window of the original size at a uniformly drawn offset (0 … 2·padding on each axis).
 */
export const randomCrop: StepFactory = (options, where) => {
  const o = parseStep(Schema, options, where);
  const step: AugmentationStep = {
    type: "RandomCrop",
    p: o.p,
    apply(x, [h, w, c], rng) {
      const dy = rng.int(2 * o.padding + 1) - o.padding;
      const dx = rng.int(2 * o.padding + 1) - o.padding;
      if (dy === 0 && dx === 0) return;
      const src = x.slice();
      for (let y = 0; y < h; y++) {
        const sy = padIndex(y + dy, h, o.padding_mode);
        for (let xx = 0; xx < w; xx++) {
          const sx = padIndex(xx + dx, w, o.padding_mode);
          for (let k = 0; k < c; k++)
            x[(y * w + xx) * c + k] =
              sy === null || sx === null ? o.fill : (src[(sy * w + sx) * c + k] as number);
        }
      }
    },
  };
  return step;
};
