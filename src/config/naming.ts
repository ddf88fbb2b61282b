import { ConfigError, UsageError } from "../util/errors.js";
import { pathIdProblem } from "../util/path-safety.js";
import { getPath } from "../util/records.js";
import { hashString } from "../util/rng.js";
import { CURRICULUM_TYPES, type CurriculumType, canonicalSeed, DYNAMIC_CURRICULUM } from "./schema.js";

/**
 * Run naming: the ONLY module that builds or splits run names. A training run's folder name is
 * its 16 naming fields joined by `_` (as aucurriculum's Hydra sweep subdir), so every id must be
 * free of `_`; aggregated runs replace the aggregated fields by `#`.
 */
export const NAMING_KEYS = [
  "dataset",
  "model",
  "optimizer",
  "learning_rate",
  "batch_size",
  "training_type",
  "iterations",
  "scheduler",
  "augmentation",
  "curriculum",
  "curriculum.sampling",
  "curriculum.scoring",
  "curriculum.pacing",
  "curriculum.pacing.initial_size",
  "curriculum.pacing.final_iteration",
  "seed",
] as const;

export type NamingKey = (typeof NAMING_KEYS)[number];

/**
 * The conditions of a curriculum comparison: each ordering (`curriculum.type`), training with a
 * dynamic sampler (`curriculum.type: Dynamic`) and the baseline trained without a curriculum
 * (`curriculum.type: None`), in the order reports and studies list them.
 */
export const CONDITIONS = [...CURRICULUM_TYPES, DYNAMIC_CURRICULUM, "Baseline"] as const;
export type Condition = CurriculumType | typeof DYNAMIC_CURRICULUM | "Baseline";

/**
 * The `curriculum` field of a run name (`curriculum.short` in configs/curriculum/<type>.yaml) for
 * each condition: C, A, R, D for a dynamic sampler and N for the baseline.
 */
export const CURRICULUM_CODES: Readonly<Record<Condition, string>> = {
  Curriculum: "C",
  AntiCurriculum: "A",
  RandomCurriculum: "R",
  Dynamic: "D",
  Baseline: "N",
};

/** The condition of a run name's `curriculum` code (C, A, R, N), or null for another code. */
export function conditionOfCode(code: string): Condition | null {
  return CONDITIONS.find((c) => CURRICULUM_CODES[c] === code) ?? null;
}

/** Keys `-a/--aggregate` accepts: every naming key except the training type. */
export const AGGREGATION_KEYS: readonly string[] = NAMING_KEYS.filter((k) => k !== "training_type");

/** Config path of each naming field's value (groups use their id, curricula their short code). */
const FIELD_PATHS: Record<NamingKey, string> = {
  dataset: "dataset.id",
  model: "model.id",
  optimizer: "optimizer.id",
  learning_rate: "learning_rate",
  batch_size: "batch_size",
  training_type: "training_type",
  iterations: "iterations",
  scheduler: "scheduler.id",
  augmentation: "augmentation.id",
  curriculum: "curriculum.short",
  "curriculum.sampling": "curriculum.sampling.short",
  "curriculum.scoring": "curriculum.scoring.id",
  "curriculum.pacing": "curriculum.pacing.id",
  "curriculum.pacing.initial_size": "curriculum.pacing.initial_size",
  "curriculum.pacing.final_iteration": "curriculum.pacing.final_iteration",
  seed: "seed",
};

/** Defaults for fields a loose config may leave out (the schema fills the same values). */
const FIELD_DEFAULTS: Partial<Record<NamingKey, string>> = {
  training_type: "epoch",
  scheduler: "None",
  augmentation: "None",
  curriculum: "N",
  "curriculum.sampling": "N",
  "curriculum.scoring": "None",
  "curriculum.pacing": "None",
  "curriculum.pacing.initial_size": "1",
  "curriculum.pacing.final_iteration": "0",
};

/**
 * Formats a number as Python's `str()` does (what the original's run names hold): shortest
 * round-trip digits, scientific notation below 1e-4 or from 1e16 (`1e-05`, not `0.00001`).
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mantissa, exponent] = value.toExponential().split("e") as [string, string];
    const sign = exponent.startsWith("-") ? "-" : "+";
    const digits = exponent.replace(/^[-+]/, "").padStart(2, "0");
    return `${mantissa}e${sign}${digits}`;
  }
  return String(value);
}

/**
 * The run-name tag of a dataset's `label_noise` (`noisy-symmetric0.2s1`, `noisy-map3f2a9c0.2s1`), or
 * "" without one: a noisy run is another run than a clean one of the same dataset, and the dataset
 * field of its name says so.
 */
function labelNoiseTag(dataset: unknown): string {
  const noise = getPath(dataset, "label_noise");
  if (noise === undefined || noise === null) return "";
  const n = noise as Record<string, unknown>;
  const kind = typeof n.kind === "string" ? n.kind : "symmetric";
  const map =
    kind === "map"
      ? hashString(JSON.stringify(Object.entries(n.map ?? {}).sort()))
          .toString(16)
          .padStart(8, "0")
          .slice(0, 6)
      : "";
  const rate = typeof n.rate === "number" ? formatNumber(n.rate) : String(n.rate);
  const seed = typeof n.seed === "number" ? formatNumber(n.seed) : "0";
  return `noisy-${kind}${map}${rate}s${seed}`;
}

/** The text of one naming field of a config; ids containing `_` are rejected. */
export function namingField(config: Record<string, unknown>, key: NamingKey): string {
  const path = FIELD_PATHS[key];
  let value = getPath(config, path);
  if (key === "dataset" && typeof value === "string") {
    const tag = labelNoiseTag(config.dataset);
    if (tag) value = `${value}-${tag}`;
  }
  let text: string;
  if (value === undefined || value === null) {
    const fallback = FIELD_DEFAULTS[key];
    if (fallback === undefined) throw new ConfigError(path, "missing (needed for the run name)");
    text = fallback;
  } else if (key === "seed" && (typeof value === "number" || typeof value === "string")) {
    // "T-T" and T are one run: the name holds the integer.
    const seed = canonicalSeed(value);
    text = typeof seed === "number" ? formatNumber(seed) : seed;
  } else if (typeof value === "number") {
    text = formatNumber(value);
  } else if (typeof value === "string" || typeof value === "boolean") {
    text = String(value);
  } else {
    throw new ConfigError(path, `expected a scalar for the run name, got ${JSON.stringify(value)}`);
  }
  if (text.length === 0) throw new ConfigError(path, "must not be empty (it is part of the run name)");
  if (text.includes("_")) {
    throw new ConfigError(path, `'${text}' must not contain '_': run names join their fields with '_'`);
  }
  if (text.includes("#")) {
    throw new ConfigError(path, `'${text}' must not contain '#' (it is part of a folder name)`);
  }
  const problem = pathIdProblem(text);
  if (problem) throw new ConfigError(path, `'${text}' ${problem} (it is part of a folder name)`);
  return text;
}

/** The run folder name of a (resolved) training config. */
export function runName(config: Record<string, unknown>): string {
  return NAMING_KEYS.map((key) => namingField(config, key)).join("_");
}

/** Splits a run name (or an aggregated one with `#` fields) into its naming fields. */
export function parseRunName(name: string): Record<NamingKey, string> {
  const fields = name.split("_");
  if (fields.length !== NAMING_KEYS.length) {
    throw new UsageError(
      `'${name}' is not a training run name: expected ${NAMING_KEYS.length} '_'-separated fields ` +
        `(${NAMING_KEYS.join(", ")}), got ${fields.length}`,
    );
  }
  const out = {} as Record<NamingKey, string>;
  NAMING_KEYS.forEach((key, i) => {
    out[key] = fields[i] as string;
  });
  return out;
}

/** The naming fields of a run name, or null when the name is not one (a folder named by hand). */
export function tryParseRunName(name: string): Record<NamingKey, string> | null {
  try {
    return parseRunName(name);
  } catch {
    return null;
  }
}

/** True if the name has at least one aggregated (`#`) field. */
export function isAggregatedName(name: string): boolean {
  return name.split("_").includes("#");
}

/** Checks `-a` keys against the naming keys (usage error otherwise). */
export function validateAggregation(keys: readonly string[]): void {
  if (keys.length === 0) throw new UsageError("Invalid configuration to aggregate: no keys given.");
  for (const key of keys) {
    if (!AGGREGATION_KEYS.includes(key)) {
      throw new UsageError(
        `Invalid configuration to aggregate: '${key}'. Valid keys: ${AGGREGATION_KEYS.join(", ")}.`,
      );
    }
  }
}

/** The run name with the aggregated fields replaced by `#` (runs with equal names form a group). */
export function aggregatedName(name: string, keys: readonly string[]): string {
  validateAggregation(keys);
  const fields = parseRunName(name);
  return NAMING_KEYS.map((key) => (keys.includes(key) ? "#" : fields[key])).join("_");
}

/** True if `member` belongs to the (possibly aggregated) name `pattern`: `#` matches any field. */
export function matchesAggregatedName(pattern: string, member: string): boolean {
  const p = pattern.split("_");
  const m = member.split("_");
  return p.length === m.length && p.every((field, i) => field === "#" || field === m[i]);
}
