import { ConfigError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import type { Batch, Dataset, Subset, SubsetName } from "../types.js";
import { colorJitter } from "./color-jitter.js";
import { gain } from "./gain.js";
import { randomHorizontalFlip } from "./horizontal-flip.js";
import { normalize } from "./normalize.js";
import { randomCrop } from "./random-crop.js";
import { randomErasing } from "./random-erasing.js";
import { randomResizedCrop } from "./random-resized-crop.js";
import { specAugment } from "./spec-augment.js";
import { timeShift } from "./time-shift.js";
import type { AugmentationStep, SampleShape, StepFactory } from "./types.js";

export type { AugmentationStep, SampleShape } from "./types.js";

/** The steps an augmentation `pipeline` may list, by `type`. */
const AUGMENTATION_STEPS: Readonly<Record<string, StepFactory>> = Object.freeze({
  RandomCrop: randomCrop,
  RandomHorizontalFlip: randomHorizontalFlip,
  RandomResizedCrop: randomResizedCrop,
  ColorJitter: colorJitter,
  RandomErasing: randomErasing,
  Normalize: normalize,
  SpecAugment: specAugment,
  TimeShift: timeShift,
  Gain: gain,
});

/**
 * An augmentation config (`augmentation: {id, pipeline: [{type, ...options, p}, ...]}`) as steps;
 * `id: None` (or no pipeline) is none. Unknown step types and options are errors naming them.
 */
export function parseAugmentation(config: Record<string, unknown> | undefined): AugmentationStep[] {
  if (!config || config.id === "None") {
    if (config && Array.isArray(config.pipeline) && config.pipeline.length > 0)
      throw new ConfigError("augmentation.pipeline", "augmentation None has no pipeline; name another id");
    return [];
  }
  const unknownKeys = Object.keys(config).filter((k) => k !== "id" && k !== "pipeline" && !k.startsWith("_"));
  if (unknownKeys.length > 0)
    throw new ConfigError(
      `augmentation.${unknownKeys[0]}`,
      "unknown key (an augmentation has id and pipeline)",
    );
  const pipeline = config.pipeline ?? [];
  if (!Array.isArray(pipeline))
    throw new ConfigError(
      "augmentation.pipeline",
      `expected a list of steps, got ${JSON.stringify(pipeline)}`,
    );
  return pipeline.map((entry, i) => {
    const where = `augmentation.pipeline[${i}]`;
    if (!entry || typeof entry !== "object" || Array.isArray(entry))
      throw new ConfigError(where, `expected {type: <step>, ...options}, got ${JSON.stringify(entry)}`);
    const type = String((entry as { type?: unknown }).type);
    const factory = AUGMENTATION_STEPS[type];
    if (!factory)
      throw new ConfigError(
        `${where}.type`,
        `unknown augmentation step '${type}'; expected one of ${Object.keys(AUGMENTATION_STEPS).join(", ")}`,
      );
    return factory(entry as Record<string, unknown>, where);
  });
}

/** The per-sample layout augmentation works on: an image's h × w × c, or a spectrogram's frames × bands × 1. */
function sampleShape(dataset: Pick<Dataset, "featureShape" | "imageShape" | "id">): SampleShape {
  if (dataset.imageShape) return dataset.imageShape;
  const shape = dataset.featureShape;
  if (shape.length === 3) return [shape[0] as number, shape[1] as number, shape[2] as number];
  throw new ConfigError(
    "augmentation",
    `dataset '${dataset.id}' has samples of shape [${shape.join(", ")}]; augmentation needs images or spectrograms (h × w × channels)`,
  );
}

/**
 * Applies the steps to each sample of a batch (rows of `x`), in order: for every sample and step, one
 * draw decides whether the step runs (probability `p`), then the step draws its parameters. All
 * draws come from `rng`, so the same stream gives the same batches on every engine.
 */
export function augmentBatch(
  x: Float32Array,
  rows: number,
  shape: SampleShape,
  steps: readonly AugmentationStep[],
  rng: Rng,
): void {
  const size = shape[0] * shape[1] * shape[2];
  for (let r = 0; r < rows; r++) {
    const sample = x.subarray(r * size, (r + 1) * size);
    for (const step of steps) if (rng.random() < step.p) step.apply(sample, shape, rng);
  }
}

/**
 * The training subset as training batches see it: the same samples, each batch augmented with the
 * run's stream. Evaluations and the per-sample outputs read the plain subset, never this one.
 */
export class AugmentedSubset implements Subset {
  readonly name: SubsetName;
  readonly size: number;
  readonly labels: Int32Array;
  readonly sourceIndex: Int32Array;

  constructor(
    private readonly base: Subset,
    private readonly shape: SampleShape,
    private readonly steps: readonly AugmentationStep[],
    /** The augmentation stream (`Rng.derive(seed, "augment")`); its state goes into checkpoints. */
    readonly rng: Rng,
  ) {
    this.name = base.name;
    this.size = base.size;
    this.labels = base.labels;
    this.sourceIndex = base.sourceIndex;
  }

  batch(positions: ArrayLike<number>): Batch {
    const batch = this.base.batch(positions);
    augmentBatch(batch.x, positions.length, this.shape, this.steps, this.rng);
    return batch;
  }
}

/** The augmented view of a training subset, or null when the config has no augmentation. */
export function augmentTraining(
  config: Record<string, unknown> | undefined,
  dataset: Pick<Dataset, "featureShape" | "imageShape" | "id">,
  train: Subset,
  seed: number,
): AugmentedSubset | null {
  const steps = parseAugmentation(config);
  if (steps.length === 0) return null;
  return new AugmentedSubset(train, sampleShape(dataset), steps, Rng.derive(seed, "augment"));
}
