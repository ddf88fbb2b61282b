import { z } from "zod";
import { parseStep, probability } from "./options.js";
import type { StepFactory } from "./types.js";

const Schema = z.object({
  type: z.literal("TimeShift"),
  /** Largest shift in frames, either way. */
  max_shift: z.number().int().min(0).default(10),
  /** `roll`: frames shifted out come back at the other end; `zero`: the gap is filled with `fill`. */
  mode: z.enum(["roll", "zero"]).default("roll"),
  fill: z.number().default(0),
  p: probability(1),
});

/** Shifts a spectrogram sample (frames × bands × c) along time by a uniform −max_shift … max_shift frames. */
export const timeShift: StepFactory = (options, where) => {
  const o = parseStep(Schema, options, where);
  return {
    type: "TimeShift",
    p: o.p,
    apply(x, [frames, bands, c], rng) {
      const shift = rng.int(2 * o.max_shift + 1) - o.max_shift;
      if (shift === 0) return;
      const src = x.slice();
      const row = bands * c;
      for (let t = 0; t < frames; t++) {
        let s = t - shift;
        if (o.mode === "roll") s = ((s % frames) + frames) % frames;
        if (s < 0 || s >= frames) x.fill(o.fill, t * row, (t + 1) * row);
        else x.set(src.subarray(s * row, (s + 1) * row), t * row);
      }
    },
  };
};
