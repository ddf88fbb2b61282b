import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { ZodType } from "zod";
import { ConfigError, UsageError } from "../util/errors.js";
import { writeLine } from "../util/progress.js";
import { isRecord, lookupPath } from "../util/records.js";
import { describePartialCurriculum, isPartialCurriculum, referenceScoreOnly } from "./curriculum-rules.js";
import { diffConfigs } from "./diff.js";
import { evaluateExpr } from "./expr.js";
import { checkKnownKeys, type KeyCatalog } from "./keys.js";
import { runDir as runDirOf } from "./layout.js";
import { runName } from "./naming.js";
import {
  formatOverrideValue,
  MAX_GRID_POINTS,
  type Override,
  parseOverride,
  sweepParamValues,
} from "./overrides.js";
import { configSearchPath } from "./package.js";
import { parseConfig } from "./parse.js";
import { type RunConfig, RunConfigSchema, schemaKeyCatalog } from "./schema.js";

/**
 * Config composition in the spirit of Hydra (what aucurriculum users know): an entry config with a
 * `defaults` list, config groups (`configs/<group>/<Name>.yaml`, a project's `conf/` shadowing the
 * packaged ones by name), overrides, a sweep section expanded into a cartesian grid, filters,
 * `${key}` interpolation, `???` for required values, and zod validation with errors that name the
 * file and the key.
 */

export type ConfigRecord = Record<string, unknown>;

/** One filter of a sweep section (`sweep.filters` or `hydra.sweeper.filters`). */
export type FilterSpec =
  | { type: "exists"; path: string; log?: boolean }
  | { type: "expr"; expr: string; log?: boolean }
  | { type: "partial_curriculum"; log?: boolean };

export interface ComposeOptions {
  /** Entry config name (`-cn`), with or without `.yaml`. Default "config". */
  configName?: string;
  /** Local config folder (`-cp`), searched before the packaged configs. Default `<cwd>/conf`. */
  configPath?: string;
  /** Command-line overrides (`key=value`, `group=name`, comma lists sweep). */
  overrides?: readonly string[];
  /** Folder that relative paths (config path, results_dir, `exists` filters) start from. */
  cwd?: string;
  /**
   * Schema each grid point is validated with. Default RunConfigSchema (a training config);
   * null skips validation (callers with their own schema, e.g. scoring configs).
   */
  schema?: ZodType | null;
  /**
   * Folder `exists` filters look in, per grid point. Default: the training run folder
   * `<results_dir>/<experiment_id>/training/<run_name>`.
   */
  jobDir?: (config: ConfigRecord) => string;
  /** Apply the partial-curriculum filter (docs/configuration.md, "Filters") to configs with a `curriculum` section. Default true. */
  partialCurriculumFilter?: boolean;
  /** Where `Filtered: ...` lines go. Default stderr; null silences. */
  log?: ((line: string) => void) | null;
  /**
   * Keys of typed groups (dataset, model, pacing, ...) by type, for the unknown-key check (the
   * schema's own declarations, e.g. the optimiser's keys by type, need no catalog).
   */
  keys?: KeyCatalog;
  /** Refuse keys the schema does not declare (default true; `+key=value` adds one on purpose). */
  strict?: boolean;
}

/** One resolved grid point. */
export interface GridPoint<T = RunConfig> {
  /** The sweep overrides that made this point, e.g. ["seed=2", "dataset=MNIST"]. */
  overrides: string[];
  /** The composed, interpolated and validated config. */
  config: T;
}

// ---------------------------------------------------------------------------------------------
// Files

const fileCache = new Map<string, { mtimeMs: number; value: unknown }>();

function readConfigFile(path: string): ConfigRecord {
  const mtimeMs = statSync(path).mtimeMs;
  const cached = fileCache.get(path);
  let value: unknown;
  if (cached && cached.mtimeMs === mtimeMs) {
    value = cached.value;
  } else {
    try {
      value = parseYaml(readFileSync(path, "utf8")) ?? {};
    } catch (error) {
      throw new ConfigError("<file>", `invalid YAML: ${(error as Error).message}`, path);
    }
    fileCache.set(path, { mtimeMs, value });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError("<root>", "a config file must hold a mapping (key: value lines)", path);
  }
  return structuredClone(value) as ConfigRecord;
}

function stripYaml(name: string): string {
  return name.replace(/\.ya?ml$/, "");
}

/** Finds `<group>/<name>.yaml` (or the root config `<name>.yaml`) along the search path. */
export function findConfigFile(
  searchPath: readonly string[],
  group: string,
  name: string,
): string | undefined {
  for (const dir of searchPath) {
    for (const ext of [".yaml", ".yml"]) {
      const path = join(dir, group, `${stripYaml(name)}${ext}`);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

/** True if a folder `<group>` exists in any search path entry (so `group=name` selects a config). */
function isConfigGroup(searchPath: readonly string[], group: string): boolean {
  return searchPath.some((dir) => {
    const path = join(dir, group);
    return existsSync(path) && statSync(path).isDirectory();
  });
}

/** Config names (file stems) of a group in one folder, sorted as the original lists them. */
export function listConfigNames(dir: string, group: string): string[] {
  const path = join(dir, group);
  if (!existsSync(path)) return [];
  return readdirSync(path)
    .filter((f) => /\.ya?ml$/.test(f) && statSync(join(path, f)).isFile())
    .map(stripYaml)
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()) || a.length - b.length);
}

function availableNames(searchPath: readonly string[], group: string): string[] {
  return [...new Set(searchPath.flatMap((dir) => listConfigNames(dir, group)))].sort();
}

/**
 * Loads one group config (local `conf/` shadows the packaged one), with its own `defaults` list
 * composed, so `loadGroupConfig("dataset", "MNIST")` is what `dataset=MNIST` puts under `dataset`.
 */
export function loadGroupConfig(
  group: string,
  name: string,
  configPath?: string,
  cwd?: string,
): ConfigRecord {
  const searchPath = configSearchPath(configPath, cwd);
  const state = newState(searchPath, new Map());
  state.lenient = true; // nested groups left as ??? are simply not filled in
  const file = findConfigFile(searchPath, group, name);
  if (!file) {
    throw new ConfigError(
      group,
      `no config named '${name}' (available: ${availableNames(searchPath, group).join(", ") || "none"})`,
      searchPath.map((d) => join(d, group)).join(" or "),
    );
  }
  const content = expandConfig(state, file, group, "", []);
  resolveInterpolations(content, content, state.origins, "");
  return content;
}

// ---------------------------------------------------------------------------------------------
// Merging and origins

interface ComposeState {
  searchPath: readonly string[];
  /** Group choices forced by overrides (highest precedence). */
  forced: Map<string, string | null>;
  /** Choices from `override group: name` entries of the defaults lists. */
  defaultOverrides: Map<string, string | null>;
  /** Dotted key → file (or override) that set it, for error messages. */
  origins: Map<string, string>;
  /** Groups selected while composing (group → name and the file that chose it). */
  chosen: Map<string, { name: string; file: string }>;
  /** Skip group choices left as `???` instead of failing (first pass, to read the sweep section). */
  lenient: boolean;
}

function newState(searchPath: readonly string[], forced: Map<string, string | null>): ComposeState {
  return {
    searchPath,
    forced,
    defaultOverrides: new Map(),
    origins: new Map(),
    chosen: new Map(),
    lenient: false,
  };
}

function join2(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

function recordOrigins(origins: Map<string, string>, value: unknown, path: string, origin: string): void {
  if (isRecord(value)) {
    if (path) origins.set(path, origin);
    for (const [k, v] of Object.entries(value)) recordOrigins(origins, v, join2(path, k), origin);
  } else if (path) {
    origins.set(path, origin);
  }
}

/** Deep merge: maps merge key by key, everything else (lists included) replaces. */
function mergeInto(target: ConfigRecord, source: ConfigRecord): void {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (isRecord(current) && isRecord(value)) mergeInto(current, value);
    else target[key] = structuredClone(value);
  }
}

function nodeAt(root: ConfigRecord, path: string, create: boolean): ConfigRecord | undefined {
  let node = root;
  if (!path) return node;
  for (const part of path.split(".")) {
    const next = node[part];
    if (!isRecord(next)) {
      if (!create) return undefined;
      node[part] = {};
    }
    node = node[part] as ConfigRecord;
  }
  return node;
}

/** The origin of a key: its own entry or the nearest parent's. */
function originOf(origins: Map<string, string>, path: string): string | undefined {
  let p = path;
  while (p) {
    const o = origins.get(p);
    if (o) return o;
    const dot = p.lastIndexOf(".");
    p = dot < 0 ? "" : p.slice(0, dot);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Defaults lists

type DefaultEntry =
  | { kind: "self" }
  | { kind: "config"; name: string }
  | { kind: "group"; group: string; name: string | null; override: boolean; optional: boolean };

function parseDefaults(raw: unknown, file: string, ownGroup: string): DefaultEntry[] {
  if (raw === undefined || raw === null) return [{ kind: "self" }];
  if (!Array.isArray(raw)) throw new ConfigError("defaults", "expected a list", file);
  const entries: DefaultEntry[] = [];
  for (const item of raw) {
    if (item === "_self_") {
      entries.push({ kind: "self" });
    } else if (typeof item === "string") {
      entries.push({ kind: "config", name: item });
    } else if (isRecord(item) && Object.keys(item).length === 1) {
      const [rawKey, value] = Object.entries(item)[0] as [string, unknown];
      const words = rawKey.trim().split(/\s+/);
      const key = words[words.length - 1] as string;
      const override = words.includes("override");
      const optional = words.includes("optional");
      if (key.startsWith("hydra/")) continue; // Hydra plugin selections mean nothing here
      const group = key.startsWith("/") ? key.slice(1) : ownGroup ? `${ownGroup}/${key}` : key;
      if (value !== null && typeof value !== "string") {
        throw new ConfigError(`defaults.${key}`, "expected a config name", file);
      }
      entries.push({ kind: "group", group, name: value === null ? null : String(value), override, optional });
    } else {
      throw new ConfigError("defaults", `unreadable entry ${JSON.stringify(item)}`, file);
    }
  }
  if (!entries.some((e) => e.kind === "self")) entries.push({ kind: "self" });
  return entries;
}

/** Collects `override group: name` entries of a config and the base configs it lists. */
function collectDefaultOverrides(
  state: ComposeState,
  file: string,
  ownGroup: string,
  seen: Set<string>,
): void {
  if (seen.has(file)) return;
  seen.add(file);
  const entries = parseDefaults(readConfigFile(file).defaults, file, ownGroup);
  for (const entry of entries) {
    if (entry.kind === "group" && entry.override && !state.defaultOverrides.has(entry.group)) {
      state.defaultOverrides.set(entry.group, entry.name);
    } else if (entry.kind === "config") {
      const base = findConfigFile(state.searchPath, ownGroup, entry.name);
      if (base) collectDefaultOverrides(state, base, ownGroup, seen);
    }
  }
}

/**
 * Composes one config file with its defaults list into a fresh object (rooted at the file's own
 * package); group configs are placed at their package (`curriculum/scoring` → `curriculum.scoring`).
 */
function expandConfig(
  state: ComposeState,
  file: string,
  ownGroup: string,
  packagePath: string,
  stack: string[],
): ConfigRecord {
  if (stack.includes(file)) {
    throw new ConfigError("defaults", `circular defaults: ${[...stack, file].join(" -> ")}`, file);
  }
  const content = readConfigFile(file);
  const entries = parseDefaults(content.defaults, file, ownGroup);
  delete content.defaults;
  const out: ConfigRecord = {};
  const nextStack = [...stack, file];
  for (const entry of entries) {
    if (entry.kind === "self") {
      mergeInto(out, content);
      recordOrigins(state.origins, content, packagePath, file);
    } else if (entry.kind === "config") {
      const base = findConfigFile(state.searchPath, ownGroup, entry.name);
      if (!base) {
        throw new ConfigError(
          "defaults",
          `base config '${entry.name}' not found in ${state.searchPath.map((d) => join(d, ownGroup)).join(" or ")}`,
          file,
        );
      }
      mergeInto(out, expandConfig(state, base, ownGroup, packagePath, nextStack));
    } else {
      if (state.chosen.has(entry.group)) continue;
      let name: string | null = entry.name;
      if (state.defaultOverrides.has(entry.group)) name = state.defaultOverrides.get(entry.group) ?? null;
      if (state.forced.has(entry.group)) name = state.forced.get(entry.group) ?? null;
      if (name === null || name === "null") continue;
      if (name === "???") {
        if (state.lenient) continue;
        throw new ConfigError(
          entry.group,
          `no config chosen (???); choose one on the command line (${entry.group}=NAME) or in the sweep params ` +
            `(available: ${availableNames(state.searchPath, entry.group).join(", ") || "none"})`,
          file,
        );
      }
      const groupFile = findConfigFile(state.searchPath, entry.group, name);
      if (!groupFile) {
        if (entry.optional) continue;
        throw new ConfigError(
          entry.group,
          `no config named '${name}' (available: ${availableNames(state.searchPath, entry.group).join(", ") || "none"})`,
          state.forced.has(entry.group) ? "command line" : file,
        );
      }
      state.chosen.set(entry.group, { name, file: groupFile });
      // Hydra's default package: the group path with dots, here relative to this config's package.
      const absolute = entry.group.split("/").join(".");
      const relative =
        packagePath && absolute.startsWith(`${packagePath}.`)
          ? absolute.slice(packagePath.length + 1)
          : absolute;
      const placed = expandConfig(state, groupFile, entry.group, absolute, nextStack);
      mergeInto(nodeAt(out, relative, true) as ConfigRecord, placed);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Overrides, interpolation, placeholders

function setPath(root: ConfigRecord, path: string, value: unknown): void {
  const parts = path.split(".");
  const last = parts.pop() as string;
  const parent = nodeAt(root, parts.join("."), true) as ConfigRecord;
  parent[last] = structuredClone(value);
}

function deletePath(root: ConfigRecord, path: string): void {
  const parts = path.split(".");
  const last = parts.pop() as string;
  const parent = nodeAt(root, parts.join("."), false);
  if (parent) delete parent[last];
}

const WHOLE_INTERPOLATION = /^\$\{([^${}]+)\}$/;
const INTERPOLATION = /\$\{([^${}]+)\}/g;

/** Resolves `${key}` references in place; a whole-string reference keeps the referenced type. */
function resolveInterpolations(
  node: ConfigRecord | unknown[],
  root: ConfigRecord,
  origins: Map<string, string>,
  path: string,
  active: string[] = [],
): void {
  const entries: [string | number, unknown][] = Array.isArray(node)
    ? node.map((v, i) => [i, v])
    : Object.entries(node);
  for (const [key, value] of entries) {
    const childPath = typeof key === "number" ? `${path}[${key}]` : join2(path, key);
    let resolved = value;
    if (typeof value === "string" && value.includes("${")) {
      resolved = resolveString(value, root, origins, childPath, active);
    } else if (isRecord(value) || Array.isArray(value)) {
      resolveInterpolations(value, root, origins, childPath, active);
    }
    (node as Record<string | number, unknown>)[key] = resolved;
  }
}

function resolveString(
  value: string,
  root: ConfigRecord,
  origins: Map<string, string>,
  path: string,
  active: string[],
): unknown {
  const lookup = (ref: string): unknown => {
    const key = ref.trim();
    if (active.includes(key)) {
      throw new ConfigError(
        path,
        `circular interpolation: ${[...active, key].join(" -> ")}`,
        originOf(origins, path),
      );
    }
    const { found, value: target } = lookupPath(root, key);
    if (!found) {
      throw new ConfigError(
        path,
        `interpolation \${${key}} refers to a missing key`,
        originOf(origins, path),
      );
    }
    if (typeof target === "string" && target.includes("${")) {
      return resolveString(target, root, origins, key, [...active, key]);
    }
    if (isRecord(target) || Array.isArray(target)) {
      const copy = structuredClone(target);
      resolveInterpolations(copy, root, origins, key, [...active, key]);
      return copy;
    }
    return target;
  };
  const whole = WHOLE_INTERPOLATION.exec(value);
  if (whole) return lookup(whole[1] as string);
  return value.replace(INTERPOLATION, (_m, ref: string) => {
    const v = lookup(ref);
    return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
  });
}

/** Throws a ConfigError for the first value left as `???` (naming the key and the file). */
function checkMandatory(config: unknown, origins: Map<string, string> = new Map(), path = ""): void {
  if (config === "???") {
    throw new ConfigError(
      path || "<root>",
      `required value missing ('???'); set it in a config or on the command line (${path}=VALUE)`,
      originOf(origins, path),
    );
  }
  if (Array.isArray(config)) {
    for (const [i, v] of config.entries()) checkMandatory(v, origins, `${path}[${i}]`);
  } else if (isRecord(config))
    for (const [k, v] of Object.entries(config)) checkMandatory(v, origins, join2(path, k));
}

// ---------------------------------------------------------------------------------------------
// One config

interface ComposedConfig {
  config: ConfigRecord;
  origins: Map<string, string>;
  /** Dotted keys set with `+key=value` (added on purpose: exempt from the unknown-key check). */
  added: Set<string>;
  /** The entry config's sweep section (params and filters), before removal. */
  sweep: { params: ConfigRecord; filters: FilterSpec[] | undefined; file: string };
}

function entryFile(searchPath: readonly string[], configName: string): string {
  const file = findConfigFile(searchPath, "", configName);
  if (!file) {
    throw new ConfigError(
      "config_name",
      `no entry config '${stripYaml(configName)}.yaml' in ${searchPath.join(" or ")}`,
      "command line",
    );
  }
  return file;
}

function composeOne(
  searchPath: readonly string[],
  configName: string,
  overrides: Override[],
  overrideSource: (o: Override) => string,
  lenient = false,
): ComposedConfig {
  const forced = new Map<string, string | null>();
  const values: Override[] = [];
  for (const o of overrides) {
    if (o.key.includes("/") || (!o.key.includes(".") && isConfigGroup(searchPath, o.key))) {
      if (o.values.length !== 1)
        throw new UsageError(`Override '${o.text}' selects several configs at once.`);
      const v = o.values[0];
      if (o.op === "delete") forced.set(o.key, null);
      else forced.set(o.key, v === null ? null : String(v));
    } else {
      values.push(o);
    }
  }
  const state = newState(searchPath, forced);
  state.lenient = lenient;
  const file = entryFile(searchPath, configName);
  collectDefaultOverrides(state, file, "", new Set());
  const config = expandConfig(state, file, "", "", []);
  for (const [group, name] of forced) {
    if (state.chosen.has(group) || name === null || (lenient && name === "???")) continue;
    // A group no defaults list mentions (Hydra's `+group=name`): appended at its package.
    const groupFile = findConfigFile(searchPath, group, name);
    if (!groupFile) {
      if (!isConfigGroup(searchPath, group)) {
        throw new UsageError(`Unknown config group '${group}' in override ${group}=${name}.`);
      }
      throw new ConfigError(
        group,
        `no config named '${name}' (available: ${availableNames(searchPath, group).join(", ") || "none"})`,
        "command line",
      );
    }
    const placed = expandConfig(state, groupFile, group, group.split("/").join("."), []);
    mergeInto(nodeAt(config, group.split("/").join("."), true) as ConfigRecord, placed);
  }
  const added = new Set<string>();
  for (const o of values) {
    if (o.op === "delete") deletePath(config, o.key);
    else {
      setPath(config, o.key, o.values[0]);
      recordOrigins(state.origins, o.values[0], o.key, overrideSource(o));
      if (o.added) added.add(o.key);
    }
  }
  const sweepSection = readSweepSection(config, file);
  delete config.sweep;
  delete config.hydra;
  return { config, origins: state.origins, added, sweep: sweepSection };
}

function readSweepSection(config: ConfigRecord, file: string): ComposedConfig["sweep"] {
  const sweep = isRecord(config.sweep) ? config.sweep : undefined;
  const hydraSweeper =
    isRecord(config.hydra) && isRecord(config.hydra.sweeper) ? config.hydra.sweeper : undefined;
  const params: ConfigRecord = {};
  let filters: FilterSpec[] | undefined;
  for (const section of [hydraSweeper, sweep]) {
    if (!section) continue;
    if (section.params !== undefined && section.params !== null) {
      if (!isRecord(section.params))
        throw new ConfigError("sweep.params", "expected a mapping of key: values", file);
      Object.assign(params, section.params);
    }
    if (section.filters !== undefined) filters = parseFilters(section.filters, file);
  }
  return { params, filters, file };
}

function parseFilters(raw: unknown, file: string): FilterSpec[] {
  if (raw === null) return [];
  if (!Array.isArray(raw)) throw new ConfigError("sweep.filters", "expected a list of filters", file);
  return raw.map((item, i) => {
    const key = `sweep.filters[${i}]`;
    if (!isRecord(item)) throw new ConfigError(key, "expected a mapping with a 'type'", file);
    const log = item.log === undefined ? undefined : Boolean(item.log);
    if (item.type === "exists") {
      if (typeof item.path !== "string")
        throw new ConfigError(`${key}.path`, "expected a path (string)", file);
      return { type: "exists", path: item.path, log };
    }
    if (item.type === "expr") {
      if (typeof item.expr !== "string")
        throw new ConfigError(`${key}.expr`, "expected an expression (string)", file);
      return { type: "expr", expr: item.expr, log };
    }
    if (
      item.type === "partial_curriculum" ||
      (item.type === "class" &&
        typeof item.target === "string" &&
        item.target.endsWith("FilterPartialCurriculum"))
    ) {
      return { type: "partial_curriculum", log };
    }
    throw new ConfigError(
      `${key}.type`,
      `unknown filter type ${JSON.stringify(item.type)} (expected exists, expr or partial_curriculum)`,
      file,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Filters

/** Returns the first filter that drops the config, or undefined. */
function applyFilters(
  config: ConfigRecord,
  filters: readonly FilterSpec[],
  jobDir: (config: ConfigRecord) => string,
): FilterSpec | undefined {
  for (const filter of filters) {
    if (filter.type === "exists" && existsSync(join(jobDir(config), filter.path))) return filter;
    if (filter.type === "expr" && evaluateExpr(filter.expr, config)) return filter;
    if (filter.type === "partial_curriculum" && isPartialCurriculum(config)) return filter;
  }
  return undefined;
}

function describeFilter(filter: FilterSpec): string {
  if (filter.type === "exists") return `exists: path=${filter.path}`;
  if (filter.type === "expr") return `expr: ${filter.expr}`;
  return "partial_curriculum";
}

// ---------------------------------------------------------------------------------------------
// Grid

/** Cartesian product of the axes, last axis varying fastest (as Hydra's basic sweeper). */
export function cartesian<T>(axes: readonly (readonly T[])[]): T[][] {
  let out: T[][] = [[]];
  for (const axis of axes) out = out.flatMap((prefix) => axis.map((v) => [...prefix, v]));
  return out;
}

/**
 * Composes every grid point: overrides and sweep params expanded into a cartesian grid (command-line
 * values win over the config's sweep params for the same key), filters applied, `${...}`
 * resolved, `???` rejected, each point validated. Duplicate points are dropped; two different
 * configs that map to the same run folder are an error.
 */
export async function composeGrid<T = RunConfig>(options: ComposeOptions = {}): Promise<GridPoint<T>[]> {
  const cwd = options.cwd ?? process.cwd();
  const searchPath = configSearchPath(options.configPath, cwd);
  const configName = options.configName ?? "config";
  const log = options.log === undefined ? writeLine : options.log;
  const schema = options.schema === undefined ? (RunConfigSchema as unknown as ZodType) : options.schema;
  const cli = (options.overrides ?? []).map(parseOverride);
  const cliKeys = new Set(cli.map((o) => o.key));

  // The sweep section is read from the config composed with the command-line overrides, so a
  // `-cn` or group override can bring its own sweep params.
  const firstPass = composeOne(
    searchPath,
    configName,
    cli.map((o) => ({ ...o, values: o.values.slice(0, 1), sweep: false })),
    () => "command line",
    true,
  );
  const sweepFile = firstPass.sweep.file;
  const axes: Override[] = [];
  for (const [key, raw] of Object.entries(firstPass.sweep.params)) {
    const normalized = key.replace(/^\+\+?/, "");
    if (cliKeys.has(normalized)) continue;
    const values = sweepParamValues(raw);
    if (values.length === 0)
      throw new ConfigError(`sweep.params.${key}`, "empty list: nothing to sweep", sweepFile);
    axes.push({
      text: `${normalized}=${values.map(formatOverrideValue).join(",")}`,
      key: normalized,
      op: "set",
      values,
      sweep: values.length > 1,
      added: key.startsWith("+"),
    });
  }
  axes.push(...cli);
  const filters: FilterSpec[] = [...(firstPass.sweep.filters ?? [])];
  const jobDir =
    options.jobDir ??
    ((config: ConfigRecord) =>
      resolve(
        cwd,
        runDirOf(String(config.results_dir ?? "results"), String(config.experiment_id), runName(config)),
      ));
  const partial = options.partialCurriculumFilter ?? true;

  const points: GridPoint<T>[] = [];
  const byDir = new Map<string, { overrides: string[]; config: unknown }>();
  let filtered = 0;
  const incomplete = new Set<string>();
  let partialFiltered = 0;
  const size = axes.reduce((n, a) => n * (a.op === "delete" ? 1 : a.values.length), 1);
  if (size > MAX_GRID_POINTS) {
    const swept = axes.filter((a) => a.values.length > 1).map((a) => `${a.key} (${a.values.length})`);
    throw new UsageError(
      `The grid has ${size} points (${swept.join(" x ")}), more than the ${MAX_GRID_POINTS} one command ` +
        "composes; sweep fewer values or split the sweep into several commands.",
    );
  }
  const combos = cartesian(axes.map((a) => (a.op === "delete" ? [undefined] : a.values)));
  for (const combo of combos) {
    const pointOverrides: Override[] = axes.map((a, i) =>
      a.op === "delete" ? a : { ...a, values: [combo[i]], sweep: false },
    );
    const labels = axes
      .filter((a) => a.sweep)
      .map((a) => `${a.key}=${formatOverrideValue(combo[axes.indexOf(a)])}`);
    const { config, origins, added } = composeOne(searchPath, configName, pointOverrides, (o) =>
      cliKeys.has(o.key) ? `command line (${o.key})` : `${sweepFile} (sweep.params.${o.key})`,
    );
    resolveInterpolations(config, config, origins, "");

    const pointFilters = [...filters];
    if (
      partial &&
      isRecord(config.curriculum) &&
      !pointFilters.some((f) => f.type === "partial_curriculum")
    ) {
      pointFilters.push({ type: "partial_curriculum", log: false });
    }
    const hit = applyFilters(config, pointFilters, jobDir);
    if (hit) {
      filtered++;
      if (hit.log !== false)
        log?.(`Filtered: ${labels.join(" ") || "(defaults)"} with ${describeFilter(hit)}`);
      if (hit.type === "partial_curriculum") {
        partialFiltered++;
        incomplete.add(describePartialCurriculum(config));
      }
      continue;
    }
    if (options.schema === undefined) referenceScoreOnly(config);
    checkMandatory(config, origins);
    if (schema && options.strict !== false) {
      checkKnownKeys(config, schema, {
        originOf: (key) => originOf(origins, key),
        added,
        catalog: (group, type) => options.keys?.(group, type) ?? schemaKeyCatalog(group, type),
      });
    }
    const validated = (
      schema
        ? parseConfig(schema, config, { file: "composed config", fileOf: (key) => originOf(origins, key) })
        : config
    ) as T;
    const dir = options.schema === null && !options.jobDir ? undefined : jobDir(validated as ConfigRecord);
    if (dir !== undefined) {
      const previous = byDir.get(dir);
      if (previous) {
        const differences = diffConfigs(previous.config, validated, ["first", "second"]);
        if (differences.length === 0) continue;
        throw new ConfigError(
          "sweep",
          `grid points [${previous.overrides.join(" ")}] and [${labels.join(" ")}] both map to ${dir} but differ in: ` +
            `${differences.join("; ")}. Keys outside the run name cannot be swept within one experiment; ` +
            "use separate experiment_id values.",
          sweepFile,
        );
      }
      byDir.set(dir, { overrides: labels, config: validated });
    }
    points.push({ overrides: labels, config: validated });
  }
  if (points.length === 0 && filtered > 0 && incomplete.size > 0) {
    const reasons = [...incomplete];
    const shown = reasons.slice(0, 3).join("; ");
    const more = reasons.length > 3 ? `; and ${reasons.length - 3} more` : "";
    const message =
      `every grid point has an incomplete curriculum, so nothing would train: ${shown}${more} ` +
      "(a curriculum needs curriculum/scoring, curriculum/pacing and curriculum/sampling; curriculum=None needs all three None; curriculum=Dynamic needs a dynamic curriculum/sampling and no pacing)";
    // Only partial curricula were filtered: the command line is incomplete, not the results.
    if (partialFiltered === filtered) {
      throw new UsageError(message.charAt(0).toUpperCase() + message.slice(1));
    }
    log?.(`All ${filtered} grid point(s) were filtered; ${message}.`);
  }
  return points;
}
