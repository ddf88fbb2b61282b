/** Validation of a model config's arguments (the architecture's keys, `model.params.*`), with errors naming the key. */
import { ConfigError } from "../util/errors.js";

/** Keys a model config may carry besides the architecture's own parameters. */
const IGNORED_KEYS = new Set(["id", "type", "_target_", "transform"]);

/** Rejects parameters the architecture does not know (a typo would otherwise be silently ignored). */
export function checkKeys(model: string, params: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key) && !IGNORED_KEYS.has(key)) {
      throw new ConfigError(
        `model.${key}`,
        `unknown parameter for model ${model}; expected one of: ${allowed.join(", ") || "(none)"}`,
      );
    }
  }
}

export function positiveInt(params: Record<string, unknown>, key: string, fallback: number): number {
  const value = params[key] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`model.${key}`, `expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function positiveIntList(
  params: Record<string, unknown>,
  key: string,
  fallback: number[],
  allowEmpty = false,
): number[] {
  const value = params[key] ?? fallback;
  const ok =
    Array.isArray(value) &&
    (allowEmpty || value.length > 0) &&
    value.every((v) => typeof v === "number" && Number.isInteger(v) && v >= 1);
  if (!ok) {
    throw new ConfigError(
      `model.${key}`,
      `expected a ${allowEmpty ? "" : "non-empty "}list of positive integers, got ${JSON.stringify(value)}`,
    );
  }
  return value as number[];
}

export function dropoutRate(params: Record<string, unknown>, key: string, fallback: number): number {
  const value = params[key] ?? fallback;
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new ConfigError(`model.${key}`, `expected a dropout rate in [0, 1), got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Image-like input as [height, width, channels]: [h, w, c] is kept, [h, w] gets one channel, and a
 * flat [n] with n a perfect square (e.g. the 64 features of 8x8 Digits) is read as an n^0.5 square.
 */
export function imageShape(model: string, inputShape: readonly number[]): [number, number, number] {
  if (inputShape.length === 3) return inputShape as [number, number, number];
  if (inputShape.length === 2) return [inputShape[0] as number, inputShape[1] as number, 1];
  if (inputShape.length === 1) {
    const n = inputShape[0] as number;
    const side = Math.round(Math.sqrt(n));
    if (side * side === n) return [side, side, 1];
  }
  throw new ConfigError(
    "model.type",
    `${model} needs image-like input [height, width(, channels)] or a square number of features, got input shape [${inputShape.join(", ")}]`,
  );
}
