import type { ZodType } from "zod";
import { ConfigError } from "../util/errors.js";
import { isRecord } from "../util/records.js";

/**
 * Strict configs, as Hydra is: every key of a composed config must be one its schema declares (or,
 * for a group whose keys depend on its `type`, one the key catalog lists for that type). A typo is
 * an error naming the key, the nearest known keys and the file or override that set it; a key is
 * added on purpose with `+key=value` (Hydra's append), and keys starting with `_` are private.
 * Nothing here knows a particular key: the schemas and the catalog say what exists, so a key a
 * schema declares is accepted without touching this module.
 */

/**
 * The keys a group config of a given `type` may hold besides `id` and `type` (e.g. a dataset
 * type's keys, a model's parameters); undefined when the catalog does not know the type (a custom
 * module's class): its keys are then checked where it is built.
 */
export type KeyCatalog = (group: string, type: string) => readonly string[] | undefined;

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = here;
    }
  }
  return row[b.length] as number;
}

/** Up to `max` known keys nearest to `key` (by edit distance, then shared prefix), nearest first. */
export function nearestKeys(key: string, known: readonly string[], max = 3): string[] {
  const limit = Math.max(2, Math.ceil(key.length / 3));
  return known
    .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
    .filter(({ k, d }) => d <= limit || k.startsWith(key) || key.startsWith(k))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, max)
    .map(({ k }) => k);
}

interface SchemaDef {
  type: string;
  shape?: Record<string, ZodType>;
  catchall?: ZodType;
  innerType?: ZodType;
  in?: ZodType;
}

function defOf(schema: ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** The object schema behind defaults, optionals, nullables and transforms; null when not an object. */
function objectOf(schema: ZodType | undefined): { shape: Record<string, ZodType>; open: boolean } | null {
  let s = schema;
  for (let depth = 0; s && depth < 10; depth++) {
    const def = defOf(s);
    if (def.type === "object" && def.shape) {
      return { shape: def.shape, open: def.catchall !== undefined && defOf(def.catchall).type !== "never" };
    }
    if (def.type === "record") return { shape: {}, open: true };
    s = def.innerType ?? def.in;
  }
  return null;
}

/**
 * The keys the object schema at `path` inside `schema` declares (through defaults, optionals and
 * transforms); empty when the path leads to no object schema.
 */
export function knownKeysAt(schema: ZodType, path: readonly PropertyKey[]): string[] {
  let object = objectOf(schema);
  for (const p of path) {
    if (!object) return [];
    object = objectOf(object.shape[String(p)]);
  }
  return object ? Object.keys(object.shape) : [];
}

/**
 * The wording of an unknown-key error: `unknown key; nearest known keys: ...` for one (the key is
 * named before it), `unknown keys a, b; ...` for several, or every known key when none is near and
 * there are few.
 */
export function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  const nearest = [...new Set(keys.flatMap((k) => nearestKeys(k, known)))];
  const hint =
    nearest.length > 0
      ? `; nearest known keys: ${nearest.join(", ")}`
      : known.length <= 12
        ? `; expected ${known.join(", ")}`
        : "";
  return `${keys.length === 1 ? "unknown key" : `unknown keys ${keys.join(", ")}`}${hint}`;
}

export interface KeyCheckOptions {
  /** The file or override that set each dotted key (the nearest parent's when a key has none). */
  originOf?: (key: string) => string | undefined;
  /** Dotted keys added on purpose (`+key=value`); they and everything below them are accepted. */
  added?: ReadonlySet<string>;
  /** Keys of typed groups (dataset, model, ...) by type. */
  catalog?: KeyCatalog;
  /**
   * Objects whose keys are not checked at all (e.g. a training config's `curriculum.scoring`, a
   * reference to a computed score).
   */
  skip?: readonly string[];
}

/** An unknown key: where it is, what was expected. */
export interface UnknownKey {
  key: string;
  /** The nearest known keys. */
  known: string[];
  /** Every key the object may hold. */
  all: string[];
  /** The group's type when its keys depend on it (e.g. the optimizer type Adam). */
  type?: string;
}

/**
 * The unknown keys of `config` against `schema` (walked object by object). A group object whose
 * schema declares a `type` key and whose type the catalog knows accepts `id`, `type` and the
 * catalog's keys instead of its schema's; an object the schema leaves open (a passthrough object
 * other than the root, a record) accepts anything unless the catalog knows its type.
 */
export function findUnknownKeys(
  config: unknown,
  schema: ZodType,
  options: KeyCheckOptions = {},
): UnknownKey[] {
  const out: UnknownKey[] = [];
  const added = options.added ?? new Set<string>();
  const skip = new Set(options.skip ?? []);
  const walk = (value: unknown, s: ZodType | undefined, path: string, root: boolean) => {
    if (!isRecord(value) || skip.has(path)) return;
    const object = objectOf(s);
    if (!object) return;
    let known = Object.keys(object.shape);
    let open = object.open && !root;
    let typed: string | undefined;
    const type = value.type;
    if (path && "type" in object.shape && typeof type === "string") {
      const listed = options.catalog?.(path, type);
      if (listed) {
        known = [...new Set(["id", "type", ...listed])];
        open = false;
        typed = type;
      }
    }
    for (const [key, child] of Object.entries(value)) {
      const dotted = path ? `${path}.${key}` : key;
      if (key.startsWith("_") || added.has(dotted)) continue;
      if (known.includes(key)) {
        walk(child, object.shape[key], dotted, false);
      } else if (!open) {
        out.push({
          key: dotted,
          known: nearestKeys(key, known),
          all: known,
          ...(typed ? { type: typed } : {}),
        });
      }
    }
  };
  walk(config, schema, "", true);
  return out;
}

/** Throws a ConfigError for the unknown keys of `config` (the first named in full, the rest listed). */
export function checkKnownKeys(config: unknown, schema: ZodType, options: KeyCheckOptions = {}): void {
  const unknown = findUnknownKeys(config, schema, options);
  const [first, ...rest] = unknown;
  if (!first) return;
  const hint = (u: UnknownKey) => {
    if (u.known.length > 0) return `; nearest known keys: ${u.known.join(", ")}`;
    return u.all.length <= 12 ? `; the known keys here are: ${u.all.join(", ")}` : "";
  };
  const also = rest.length > 0 ? ` (also unknown: ${rest.map((u) => `${u.key}${hint(u)}`).join("; ")})` : "";
  throw new ConfigError(
    first.key,
    `unknown key${first.type ? ` for type '${first.type}'` : ""}${hint(first)}; to add a key on purpose, write +${first.key}=VALUE${also}`,
    options.originOf?.(first.key),
  );
}
