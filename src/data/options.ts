import { DEFAULT_SPLIT_SEED } from "../config/schema.js";
import { ConfigError } from "../util/errors.js";

/**
 * Readers for a dataset config's own keys (the run config's `dataset` object). Every problem is a
 * ConfigError naming the dotted key (`dataset.dev_split`), the value given and what is allowed.
 */
export type DatasetOptions = Record<string, unknown>;

function key(name: string): string {
  return `dataset.${name}`;
}

function show(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : JSON.stringify(value);
}

export interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  above?: number;
  below?: number;
}

/** A number key with a default; `null`/absent gives the default. */
export function numberOption(
  config: DatasetOptions,
  name: string,
  fallback: number,
  rule: NumberRule = {},
): number {
  const raw = config[name];
  if (raw === undefined || raw === null) return fallback;
  return checkNumber(name, raw, rule);
}

/** A number key that may be absent (returns undefined). */
export function optionalNumber(
  config: DatasetOptions,
  name: string,
  rule: NumberRule = {},
): number | undefined {
  const raw = config[name];
  if (raw === undefined || raw === null) return undefined;
  return checkNumber(name, raw, rule);
}

function checkNumber(name: string, raw: unknown, rule: NumberRule): number {
  const kind = rule.integer ? "an integer" : "a number";
  if (typeof raw !== "number" || !Number.isFinite(raw)) {
    throw new ConfigError(key(name), `expected ${kind}, got ${show(raw)}`);
  }
  if (rule.integer && !Number.isInteger(raw))
    throw new ConfigError(key(name), `expected ${kind}, got ${raw}`);
  const bounds: string[] = [];
  if (rule.min !== undefined) bounds.push(`>= ${rule.min}`);
  if (rule.above !== undefined) bounds.push(`> ${rule.above}`);
  if (rule.max !== undefined) bounds.push(`<= ${rule.max}`);
  if (rule.below !== undefined) bounds.push(`< ${rule.below}`);
  const ok =
    (rule.min === undefined || raw >= rule.min) &&
    (rule.above === undefined || raw > rule.above) &&
    (rule.max === undefined || raw <= rule.max) &&
    (rule.below === undefined || raw < rule.below);
  if (!ok) throw new ConfigError(key(name), `expected ${kind} ${bounds.join(" and ")}, got ${raw}`);
  return raw;
}

/** A string key with a default, optionally restricted to `choices`. */
export function stringOption<T extends string>(
  config: DatasetOptions,
  name: string,
  fallback: T,
  choices?: readonly T[],
): T {
  const raw = config[name];
  if (raw === undefined || raw === null) return fallback;
  return checkString(name, raw, choices) as T;
}

/** A string key that may be absent. */
export function optionalString(config: DatasetOptions, name: string): string | undefined {
  const raw = config[name];
  if (raw === undefined || raw === null) return undefined;
  return checkString(name, raw);
}

function checkString(name: string, raw: unknown, choices?: readonly string[]): string {
  if (typeof raw !== "string" || raw.length === 0) {
    throw new ConfigError(key(name), `expected a non-empty string, got ${show(raw)}`);
  }
  if (choices && !choices.includes(raw)) {
    throw new ConfigError(key(name), `expected one of ${choices.join(", ")}, got ${show(raw)}`);
  }
  return raw;
}

/** A list of strings that may be absent. */
export function optionalStringList(config: DatasetOptions, name: string): string[] | undefined {
  const raw = config[name];
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || raw.length === 0 || raw.some((v) => typeof v !== "string" || v.length === 0)) {
    throw new ConfigError(key(name), `expected a non-empty list of column names, got ${show(raw)}`);
  }
  return raw as string[];
}

/** A boolean key with a default. */
export function booleanOption(config: DatasetOptions, name: string, fallback: boolean): boolean {
  const raw = config[name];
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw !== "boolean") throw new ConfigError(key(name), `expected true or false, got ${show(raw)}`);
  return raw;
}

/**
 * The `dev_split` and `test_split` fractions: each in [0, 1), together below 1. A zero fraction is
 * accepted here and reported later as an empty split (a DataError saying which).
 */
export function splitFractions(
  config: DatasetOptions,
  defaults: { dev: number; test: number },
): { dev: number; test: number } {
  const dev = numberOption(config, "dev_split", defaults.dev, { min: 0, below: 1 });
  const test = numberOption(config, "test_split", defaults.test, { min: 0, below: 1 });
  if (dev + test >= 1) {
    throw new ConfigError(
      key("dev_split"),
      `dev_split + test_split must be below 1 (the train split would be empty), got ${dev} + ${test}`,
    );
  }
  return { dev, test };
}

/** The dataset's `split_seed` (default DEFAULT_SPLIT_SEED): what its split is drawn from. */
export function splitSeed(config: DatasetOptions): number {
  return numberOption(config, "split_seed", DEFAULT_SPLIT_SEED, { integer: true, min: 0 });
}

/**
 * The `in_memory` key of the cached folder datasets: auto (caches up to 1 GiB and an eighth of the
 * RAM are read into memory), true or false (each batch reads its rows from the cache file).
 */
export function inMemoryOption(config: DatasetOptions): boolean | "auto" {
  const value = config.in_memory ?? "auto";
  if (value !== "auto" && value !== true && value !== false)
    throw new ConfigError(key("in_memory"), `expected auto, true or false, got ${show(value)}`);
  return value;
}
