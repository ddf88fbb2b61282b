import type { Rng } from "../../util/rng.js";

/** The layout of one sample in a batch: height (or frames) × width (or mel bands) × channels, channels-last. */
export type SampleShape = readonly [number, number, number];

/**
 * One augmentation step: changes one sample's values in place (`x` is the sample's h × w × c
 * values, channels-last), drawing what it needs from `rng`. Whether it runs at all is decided by
 * the pipeline from the step's `p`.
 */
export interface AugmentationStep {
  readonly type: string;
  /** Probability that the step is applied to a sample. */
  readonly p: number;
  apply(x: Float32Array, shape: SampleShape, rng: Rng): void;
}

/** Reads a step's parameters: zod-parsed options of one `pipeline` entry. */
export type StepFactory = (options: Record<string, unknown>, where: string) => AugmentationStep;
