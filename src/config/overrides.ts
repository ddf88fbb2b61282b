import { parse as parseYaml } from "yaml";
import { UsageError } from "../util/errors.js";

/**
 * Command-line overrides in Hydra's syntax: `key=value` with dotted keys (`optimizer.lr=0.01`),
 * group selection (`dataset=MNIST`, `curriculum/scoring=CELoss`), `+key=value` / `++key=value`
 * (accepted for Hydra users; same as plain), `~key` (delete). Values are YAML scalars; a top-level
 * comma list (`seed=1,2,3`) or `range(a,b[,step])` is a sweep; quotes keep commas (`'a,b'` is one
 * string) and `[1,2]` is one list value.
 */
export interface Override {
  /** The override as written. */
  text: string;
  /** Dotted key (`optimizer.lr`) or group path (`curriculum/scoring`), without +/~ prefixes. */
  key: string;
  /** `delete` for `~key`. */
  op: "set" | "delete";
  /** One value for a plain override; several for a sweep. */
  values: unknown[];
  /** True when the value is a comma list or range (each value is one grid axis point). */
  sweep: boolean;
  /** Written `+key=v` or `++key=v`: adds a key the config does not declare, on purpose. */
  added?: boolean;
}

const KEY_PATTERN = /^[A-Za-z_$][\w$-]*(?:[./][A-Za-z_$][\w$-]*)*$/;

/** Splits at top-level commas (outside quotes, brackets and braces). */
export function splitTopLevel(text: string, separator = ","): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === "\\" && i + 1 < text.length) {
        current += c + text[i + 1];
        i++;
        continue;
      }
      if (c === quote) quote = null;
      current += c;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "[" || c === "{" || c === "(") depth++;
    else if (c === "]" || c === "}" || c === ")") depth--;
    if (c === separator && depth === 0) {
      parts.push(current);
      current = "";
      continue;
    }
    current += c;
  }
  if (quote) throw new UsageError(`Invalid override value '${text}': unterminated ${quote} quote.`);
  if (depth !== 0) throw new UsageError(`Invalid override value '${text}': unbalanced brackets.`);
  parts.push(current);
  return parts;
}

/** Parses one element: a quoted string, a flow list/map, or a YAML scalar (numbers, booleans, null). */
export function parseScalar(raw: string): unknown {
  const text = raw.trim();
  if (text.length === 0) return "";
  const first = text[0];
  if ((first === "'" || first === '"') && text.endsWith(first) && text.length >= 2) {
    return text.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  if (first === "[" && text.endsWith("]")) {
    const inner = text.slice(1, -1).trim();
    return inner.length === 0 ? [] : splitTopLevel(inner).map(parseScalar);
  }
  if (first === "{" && text.endsWith("}")) {
    try {
      return parseYaml(text) as unknown;
    } catch (error) {
      throw new UsageError(`Invalid override value '${text}': ${(error as Error).message}`);
    }
  }
  try {
    const value = parseYaml(text) as unknown;
    // Only scalars: anything YAML would turn into structure (e.g. "a: b") stays a string.
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) {
      return text === "~" ? "~" : value;
    }
  } catch {
    // not YAML: keep the text
  }
  return text;
}

/**
 * The most grid points one command composes: a grid is counted before it is expanded, and a larger
 * one is a usage error naming its size (it would take hours to compose and more to train).
 */
export const MAX_GRID_POINTS = 100_000;

/** Parses the value side of an override into its values (several = a sweep). */
export function parseOverrideValue(text: string): { values: unknown[]; sweep: boolean } {
  const trimmed = text.trim();
  const range = /^range\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*(?:,\s*(-?[\d.]+)\s*)?\)$/.exec(trimmed);
  if (range) {
    const start = Number(range[1]);
    const stop = Number(range[2]);
    const step = range[3] === undefined ? 1 : Number(range[3]);
    if (step === 0 || !Number.isFinite(start + stop + step)) {
      throw new UsageError(`Invalid range '${trimmed}': step must be a non-zero number.`);
    }
    const count = Math.max(0, Math.ceil((stop - start) / step - 1e-12));
    if (count > MAX_GRID_POINTS) {
      throw new UsageError(
        `Invalid range '${trimmed}': ${count} values, more than the ${MAX_GRID_POINTS} grid points one command can sweep.`,
      );
    }
    const values: number[] = [];
    for (let v = start; step > 0 ? v < stop - 1e-12 : v > stop + 1e-12; v += step) {
      values.push(Number(v.toPrecision(12)));
    }
    return { values, sweep: true };
  }
  const parts = splitTopLevel(text);
  return { values: parts.map(parseScalar), sweep: parts.length > 1 };
}

/** Parses one `key=value` (or `~key`) override. */
export function parseOverride(text: string): Override {
  if (text.startsWith("~")) {
    const key = text.slice(1).split("=")[0] as string;
    if (!KEY_PATTERN.test(key))
      throw new UsageError(`Invalid override '${text}': '${key}' is not a config key.`);
    return { text, key, op: "delete", values: [], sweep: false };
  }
  const eq = text.indexOf("=");
  if (eq <= 0) {
    throw new UsageError(`Invalid override '${text}': expected key=value (e.g. seed=1 or dataset=MNIST).`);
  }
  const key = text.slice(0, eq).replace(/^\+\+?/, "");
  if (!KEY_PATTERN.test(key)) {
    throw new UsageError(
      `Invalid override '${text}': '${key}' is not a config key (letters, digits, '.', '/').`,
    );
  }
  const { values, sweep } = parseOverrideValue(text.slice(eq + 1));
  return { text, key, op: "set", values, sweep, added: text.startsWith("+") };
}

/**
 * Turns one entry of a config's sweep params into its values: a YAML list sweeps over its items
 * (the original dropped YAML lists in one place; here they always sweep), a string is read with the
 * command-line syntax (`"1,2,3"` sweeps, `"[1,2]"` is one list), anything else is one value.
 */
export function sweepParamValues(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === "string") return parseOverrideValue(value).values;
  return [value];
}

/** Formats a value back into override syntax (for logs and the `Filtered:` lines). */
export function formatOverrideValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(formatOverrideValue).join(",")}]`;
  if (typeof value === "string") return /[,[\]{}'"\s]/.test(value) || value === "" ? `'${value}'` : value;
  if (value === null) return "null";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
