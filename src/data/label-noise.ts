import { ConfigError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { type Batch, type Dataset, type LabelNoise, type Subset, withTrainSubset } from "./types.js";

/**
 * Controlled label noise on the train subset (`dataset.label_noise: {rate, kind, seed}`), as in the
 * noisy-label benchmarks curricula are evaluated on (Wu et al., ICLR 2021; Han et al., NeurIPS 2018):
 *
 * - `symmetric`: a changed label goes to one of the other C − 1 classes, uniformly;
 * - `pairflip`: class k goes to class k + 1 (mod C), by the sorted class order;
 * - `map`: a class-to-class table (`map: {cat: dog, dog: cat}`); only samples of a mapped class change.
 *
 * Exactly ⌊rate · N⌋ of the N train labels change, chosen uniformly (among the samples whose class
 * can change) by the named RNG stream `label-noise` of `seed`: the same seed changes the same
 * samples to the same labels. Dev and test stay clean.
 */
export const LABEL_NOISE_KINDS = ["symmetric", "pairflip", "map"] as const;
export type LabelNoiseKind = (typeof LABEL_NOISE_KINDS)[number];

export interface LabelNoiseConfig {
  rate: number;
  kind: LabelNoiseKind;
  seed: number;
  /** `map` only: class name → class name. */
  map?: Record<string, string>;
}

const KEY = "dataset.label_noise";

/** The `label_noise` of a dataset config, checked; null when the config has none. */
export function parseLabelNoise(raw: unknown): LabelNoiseConfig | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(KEY, `expected a mapping {rate, kind, seed}, got ${JSON.stringify(raw)}`);
  }
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!["rate", "kind", "seed", "map"].includes(key)) {
      throw new ConfigError(
        `${KEY}.${key}`,
        "unknown key; label_noise takes rate, kind, seed and (kind map) map",
      );
    }
  }
  const rate = o.rate;
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
    throw new ConfigError(`${KEY}.rate`, `expected a number in [0, 1), got ${JSON.stringify(rate)}`);
  }
  const kind = o.kind ?? "symmetric";
  if (typeof kind !== "string" || !(LABEL_NOISE_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError(
      `${KEY}.kind`,
      `expected one of ${LABEL_NOISE_KINDS.join(", ")}, got ${JSON.stringify(kind)}`,
    );
  }
  const seed = o.seed ?? 0;
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0) {
    throw new ConfigError(`${KEY}.seed`, `expected a non-negative integer, got ${JSON.stringify(seed)}`);
  }
  const out: LabelNoiseConfig = { rate, kind: kind as LabelNoiseKind, seed };
  if (kind === "map") {
    const map = o.map;
    if (!map || typeof map !== "object" || Array.isArray(map) || Object.keys(map).length === 0) {
      throw new ConfigError(
        `${KEY}.map`,
        `kind map needs a non-empty table {from class: to class}, got ${JSON.stringify(map)}`,
      );
    }
    out.map = Object.fromEntries(Object.entries(map).map(([from, to]) => [from, String(to)]));
  } else if (o.map !== undefined) {
    throw new ConfigError(`${KEY}.map`, `only kind map takes a table (kind is ${kind})`);
  }
  return out;
}

/** Class code → the code it changes to (−1: it does not change), for `pairflip` and `map`. */
function fixedTarget(config: LabelNoiseConfig, classNames: readonly string[]): Int32Array {
  const c = classNames.length;
  const target = new Int32Array(c).fill(-1);
  if (config.kind === "pairflip") {
    for (let k = 0; k < c; k++) target[k] = (k + 1) % c;
    return target;
  }
  for (const [from, to] of Object.entries(config.map ?? {})) {
    const a = classNames.indexOf(from);
    const b = classNames.indexOf(to);
    for (const [name, code] of [
      [from, a],
      [to, b],
    ] as const) {
      if (code < 0) {
        throw new ConfigError(
          `${KEY}.map`,
          `unknown class '${name}'; the classes are ${classNames.join(", ")}`,
        );
      }
    }
    if (a !== b) target[a] = b;
  }
  return target;
}

/**
 * The noise `config` puts on train `labels` (codes 0..C−1 of `classNames`): which positions change
 * and to what. A ConfigError when fewer samples can change than ⌊rate · N⌋ (a `map` of rare classes).
 */
export function drawLabelNoise(
  labels: Int32Array,
  classNames: readonly string[],
  config: LabelNoiseConfig,
): LabelNoise {
  const n = labels.length;
  const c = classNames.length;
  const count = Math.floor(config.rate * n);
  if (c < 2 && count > 0)
    throw new ConfigError(`${KEY}.rate`, "needs at least two classes to change a label");
  const target = config.kind === "symmetric" ? null : fixedTarget(config, classNames);
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if (!target || (target[labels[i] as number] as number) >= 0) candidates.push(i);
  if (candidates.length < count) {
    throw new ConfigError(
      `${KEY}.rate`,
      `${config.rate} of ${n} train samples is ${count} labels, but only ${candidates.length} samples have a class the map changes`,
    );
  }
  const rng = Rng.derive(config.seed, "label-noise");
  // The first `count` of a seeded shuffle of the candidates, then in position order.
  const chosen = rng.shuffle(Int32Array.from(candidates)).subarray(0, count).slice().sort();
  const original = new Int32Array(count);
  const noisy = new Int32Array(count);
  chosen.forEach((p, i) => {
    const from = labels[p] as number;
    original[i] = from;
    noisy[i] = target ? (target[from] as number) : (from + 1 + rng.int(c - 1)) % c;
  });
  return { config, positions: chosen, original, noisy };
}

/** The train subset with noisy labels: `labels` and every batch's `y` carry them. */
function noisyTrain(base: Subset, noise: LabelNoise): Subset {
  const labels = Int32Array.from(base.labels);
  noise.positions.forEach((p, i) => {
    labels[p] = noise.noisy[i] as number;
  });
  return {
    name: base.name,
    size: base.size,
    labels,
    sourceIndex: base.sourceIndex,
    batch(positions: ArrayLike<number>): Batch {
      const batch = base.batch(positions);
      const y = new Int32Array(positions.length);
      for (let i = 0; i < positions.length; i++) y[i] = labels[positions[i] as number] as number;
      return { x: batch.x, y, index: batch.index };
    },
  };
}

/** The dataset with `label_noise` applied to its train subset (the dataset itself when there is none). */
export function withLabelNoise(dataset: Dataset, raw: unknown): Dataset {
  const config = parseLabelNoise(raw);
  if (!config) return dataset;
  const clean = dataset.subset("train");
  const noise = drawLabelNoise(clean.labels, dataset.classNames, config);
  return withTrainSubset(dataset, noisyTrain(clean, noise), { labelNoise: noise });
}

/** Rows of `label_noise.csv`: train position, source index, original and noisy class name. */
export function labelNoiseRows(dataset: Dataset): Array<Record<string, number | string>> {
  const noise = dataset.labelNoise;
  if (!noise) return [];
  const train = dataset.subset("train");
  return Array.from(noise.positions, (p, i) => ({
    index: p,
    source_index: train.sourceIndex[p] as number,
    original_label: dataset.classNames[noise.original[i] as number] as string,
    noisy_label: dataset.classNames[noise.noisy[i] as number] as string,
  }));
}

export const LABEL_NOISE_COLUMNS = ["index", "source_index", "original_label", "noisy_label"] as const;
