import type { ZodType, z } from "zod";
import { ConfigError } from "../util/errors.js";
import { knownKeysAt, unknownKeysMessage } from "./keys.js";
import { type RunConfig, RunConfigSchema, upgradeSavedConfig } from "./schema.js";

/**
 * The one place a config value is checked against its schema. A schema error becomes a
 * ConfigError `<file>: <dotted.key>: <message>`; a value this process already parsed with the same
 * schema is returned as it is, so a config is parsed once per process however many layers it
 * passes (compose, the assembly, the trainer, scoring).
 */

export interface ParseOptions {
  /** The file (or other source) the value was read from; named first in the error. */
  file?: string | undefined;
  /** Dotted key the value sits under in its file (e.g. `curriculum.scoring`); prefixed to the key. */
  key?: string | undefined;
  /** The file that set a dotted key, for values composed from several files (wins over `file`). */
  fileOf?: ((key: string) => string | undefined) | undefined;
}

/** Outputs of each schema, so they are never parsed again. */
const parsed = new WeakMap<ZodType, WeakSet<object>>();

/** A zod issue path as a dotted key: `a.b[0].c`. */
function formatKey(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === "number" ? `[${p}]` : String(p)))
    .join(".")
    .replace(/\.\[/g, "[");
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Validates `value` against `schema` (defaults filled in); schema errors name the file and the key. */
export function parseConfig<S extends ZodType>(
  schema: S,
  value: unknown,
  options: ParseOptions = {},
): z.output<S> {
  const seen = parsed.get(schema);
  if (seen && typeof value === "object" && value !== null && seen.has(value)) return value as z.output<S>;
  const result = schema.safeParse(value);
  if (!result.success) {
    const describe = (issue: (typeof result.error.issues)[number]) => {
      const path = formatKey(issue.path);
      const key = [options.key, path].filter(Boolean).join(".") || "<root>";
      const missing =
        (issue.code === "invalid_type" || issue.code === "invalid_union") &&
        issue.path.length > 0 &&
        valueAt(value, issue.path) === undefined;
      if (issue.code === "unrecognized_keys") {
        const message = unknownKeysMessage(issue.keys, knownKeysAt(schema, issue.path));
        if (issue.keys.length !== 1) return { key, message };
        const one = [options.key, formatKey([...issue.path, issue.keys[0] as string])]
          .filter(Boolean)
          .join(".");
        return { key: one, message };
      }
      return { key, message: missing ? "required value missing" : issue.message };
    };
    const [first, ...rest] = result.error.issues.map(describe);
    const key = first?.key ?? (options.key || "<root>");
    const also = rest.length > 0 ? ` (also: ${rest.map((i) => `${i.key}: ${i.message}`).join("; ")})` : "";
    throw new ConfigError(
      key,
      `${first?.message ?? "invalid"}${also}`,
      options.fileOf?.(key) ?? options.file,
    );
  }
  const out = result.data;
  if (typeof out === "object" && out !== null) {
    if (!seen) parsed.set(schema, new WeakSet([out]));
    else seen.add(out);
  }
  return out;
}

/** A resolved run config, validated once per process (see {@link parseConfig}). */
export function parseRunConfig(value: unknown, file?: string): RunConfig {
  return parseConfig(RunConfigSchema, value, { file });
}

/**
 * A run config read back from a run folder: upgraded from what earlier versions wrote (a dataset
 * without `split_seed` was split with the run's data seed), then validated.
 */
export function parseSavedRunConfig(value: unknown, file: string): RunConfig {
  return parseRunConfig(upgradeSavedConfig(value), file);
}
