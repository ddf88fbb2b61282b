import { z } from "zod";
import type { Rng } from "../../util/rng.js";
import { parseStep, probability, range } from "./options.js";
import type { SampleShape, StepFactory } from "./types.js";

const Schema = z.object({
  type: z.literal("RandomResizedCrop"),
  /** Range of the crop's area as a fraction of the sample's. */
  scale: range([0.08, 1], 0),
  /** Range of the crop's aspect ratio (width / height), drawn log-uniformly. */
  ratio: range([3 / 4, 4 / 3], 0),
  p: probability(1),
});

/**
 * The crop window of torchvision's `RandomResizedCrop.get_params`: up to 10 draws of an area and a
 * log-uniform aspect ratio that fit; else the central crop at the ratio clamped to `ratio`.
 */
export function resizedCropWindow(
  h: number,
  w: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  rng: Rng,
): { top: number; left: number; height: number; width: number } {
  const area = h * w;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + rng.random() * (scale[1] - scale[0]));
    const aspect = Math.exp(logLo + rng.random() * (logHi - logLo));
    const width = Math.round(Math.sqrt(target * aspect));
    const height = Math.round(Math.sqrt(target / aspect));
    if (width > 0 && width <= w && height > 0 && height <= h) {
      return { top: rng.int(h - height + 1), left: rng.int(w - width + 1), height, width };
    }
  }
  const inRatio = w / h;
  let width = w;
  let height = h;
  if (inRatio < ratio[0]) height = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) width = Math.round(h * ratio[1]);
  return { top: Math.floor((h - height) / 2), left: Math.floor((w - width) / 2), height, width };
}

/** Bilinear resize of a window of `src` (h × w × c) back to h × w (align_corners = false). */
function resizeWindow(
  src: Float32Array,
  dst: Float32Array,
  [h, w, c]: SampleShape,
  win: { top: number; left: number; height: number; width: number },
): void {
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * (win.height / h) - 0.5, 0), win.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, win.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max((x + 0.5) * (win.width / w) - 0.5, 0), win.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, win.width - 1);
      const wx = fx - x0;
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number) => src[((win.top + yy) * w + win.left + xx) * c + k] as number;
        const top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx;
        const bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
        dst[(y * w + x) * c + k] = top * (1 - wy) + bottom * wy;
      }
    }
  }
}

/** torchvision's `RandomResizedCrop` at the sample's own size: a random window, bilinearly resized back. */
export const randomResizedCrop: StepFactory = (options, where) => {
  const o = parseStep(Schema, options, where);
  return {
    type: "RandomResizedCrop",
    p: o.p,
    apply(x, shape, rng) {
      const [h, w] = shape;
      const win = resizedCropWindow(h, w, o.scale, o.ratio, rng);
      resizeWindow(x.slice(), x, shape, win);
    },
  };
};
