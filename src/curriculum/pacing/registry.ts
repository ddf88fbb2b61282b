import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { PacingConfig } from "../../config/schema.js";
import { ConfigError } from "../../util/errors.js";
import type { AbstractPace, PaceOptions } from "./abstract-pace.js";
import { Adaptive } from "./adaptive.js";
import { Exponential } from "./exponential.js";
import { Linear } from "./linear.js";
import { Logarithmic } from "./logarithmic.js";
import { OneStep } from "./one-step.js";
import { Polynomial } from "./polynomial.js";
import { Quadratic } from "./quadratic.js";
import { Root } from "./root.js";

/** A pacing class: `new Cls(options, extraArgs)`; `defaults` lists the extra config keys it accepts. */
export type PaceClass = (new (
  options: PaceOptions,
  // biome-ignore lint/suspicious/noExplicitAny: each class narrows its own extra arguments
  args?: any,
) => AbstractPace) & { readonly defaults?: Readonly<Record<string, number>> };

const BUILT_IN: ReadonlyArray<readonly [string, PaceClass]> = [
  ["Exponential", Exponential],
  ["Logarithmic", Logarithmic],
  ["Linear", Linear],
  ["Quadratic", Quadratic],
  ["Root", Root],
  ["Polynomial", Polynomial],
  ["OneStep", OneStep],
  ["Adaptive", Adaptive],
];

/** Built-in pacing types (the `type` of a curriculum.pacing config). */
export const PACING_TYPES: readonly string[] = BUILT_IN.map(([type]) => type);

const registry = new Map<string, PaceClass>(BUILT_IN);
/** Custom classes loaded from user modules, by absolute module path and class name. */
const loaded = new Map<string, PaceClass>();

/** Config keys that are not constructor arguments. */
const RESERVED = new Set(["id", "type", "module", "initial_size", "final_iteration"]);

/** Registers a pacing class under a type name (library users; config files use `module`). */
export function registerPacing(type: string, cls: PaceClass): void {
  if (PACING_TYPES.includes(type)) {
    throw new ConfigError(
      "curriculum.pacing.type",
      `"${type}" is a built-in pacing type and cannot be replaced`,
    );
  }
  registry.set(type, cls);
}

/** The class a type names, or undefined. */
export function pacingClass(type: string): PaceClass | undefined {
  return registry.get(type);
}

/** The type of a pacing config: `type`, or the id when no type is given (packaged configs set both). */
export function pacingType(config: Pick<PacingConfig, "id" | "type">): string {
  return config.type ?? config.id;
}

function moduleKey(config: PacingConfig, baseDir: string): string | null {
  const module = config.module;
  if (module === undefined || module === null) return null;
  if (typeof module !== "string" || module.length === 0) {
    throw new ConfigError(
      "curriculum.pacing.module",
      `expected a path to a JavaScript module, got ${JSON.stringify(module)}`,
    );
  }
  const path = isAbsolute(module) ? module : resolve(baseDir, module);
  return `${path}#${pacingType(config)}`;
}

/**
 * Loads the class of a custom pacing config (`module: ./my-pacing.js`, `type: <exported class>`,
 * module path relative to `baseDir`, by default the working directory). A no-op for built-in
 * types. Call before {@link createPacing}; the pace manager and `curricula pace` do.
 */
export async function loadCustomPacing(config: PacingConfig, baseDir: string = process.cwd()): Promise<void> {
  const key = moduleKey(config, baseDir);
  if (key === null || loaded.has(key)) return;
  const type = pacingType(config);
  if (PACING_TYPES.includes(type)) {
    throw new ConfigError(
      "curriculum.pacing.type",
      `"${type}" is built in; give the custom class another name`,
    );
  }
  const path = key.slice(0, key.lastIndexOf("#"));
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError("curriculum.pacing.module", `cannot import ${path}: ${(error as Error).message}`);
  }
  const cls = exports[type];
  const proto = typeof cls === "function" ? (cls.prototype as Record<string, unknown>) : undefined;
  if (!proto || typeof proto.getDatasetSize !== "function") {
    throw new ConfigError(
      "curriculum.pacing.type",
      `${path} has no exported pacing class "${type}" (a subclass of AbstractPace); exports: ${Object.keys(exports).join(", ") || "none"}`,
    );
  }
  loaded.set(key, cls as PaceClass);
}

/** Extra constructor arguments of a config, checked against the class's declared `defaults`. */
export function pacingArgs(config: PacingConfig, cls: PaceClass, strict: boolean): Record<string, unknown> {
  const type = pacingType(config);
  const allowed = Object.keys(cls.defaults ?? {});
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (RESERVED.has(key) || key.startsWith("_")) continue;
    if (strict && !allowed.includes(key)) {
      throw new ConfigError(
        `curriculum.pacing.${key}`,
        `not an argument of ${type} pacing (${allowed.length ? `expected one of: ${allowed.join(", ")}` : "it takes none beyond initial_size and final_iteration"})`,
      );
    }
    if (value === "???") throw new ConfigError(`curriculum.pacing.${key}`, "missing value (???)");
    args[key] = value;
  }
  for (const key of allowed) {
    const value = args[key];
    if (value !== undefined && typeof value !== "number") {
      throw new ConfigError(`curriculum.pacing.${key}`, `expected a number, got ${JSON.stringify(value)}`);
    }
  }
  return args;
}

function instantiate(
  config: PacingConfig,
  cls: PaceClass,
  strict: boolean,
  totalIterations: number,
  datasetSize: number,
): AbstractPace {
  const args = pacingArgs(config, cls, strict);
  const options: PaceOptions = {
    initialSize: config.initial_size,
    finalIteration: config.final_iteration,
    totalIterations,
    datasetSize,
  };
  return new cls(options, args);
}

/** Custom classes that declare no `defaults` receive every extra key; the others are checked. */
function declaresArgs(cls: PaceClass): boolean {
  return Object.keys(cls.defaults ?? {}).length > 0;
}

/**
 * Builds the pacing function of a `curriculum.pacing` config for a run of `totalIterations`
 * iterations over `datasetSize` training samples. Custom classes (`module`, resolved against the
 * working directory) must have been loaded with {@link loadCustomPacing} first; {@link resolvePacing}
 * does both.
 */
export function createPacing(
  config: PacingConfig,
  totalIterations: number,
  datasetSize: number,
): AbstractPace {
  return createPacingFrom(config, totalIterations, datasetSize, process.cwd());
}

function createPacingFrom(
  config: PacingConfig,
  totalIterations: number,
  datasetSize: number,
  baseDir: string,
): AbstractPace {
  const type = pacingType(config);
  const key = moduleKey(config, baseDir);
  if (key !== null) {
    const cls = loaded.get(key);
    if (!cls) {
      throw new ConfigError(
        "curriculum.pacing.module",
        `custom pacing ${type} from ${String(config.module)} is not loaded (call loadCustomPacing first)`,
      );
    }
    return instantiate(config, cls, declaresArgs(cls), totalIterations, datasetSize);
  }
  const cls = registry.get(type);
  if (!cls) {
    throw new ConfigError(
      "curriculum.pacing.type",
      `unknown pacing "${type}"; expected one of: ${[...registry.keys()].join(", ")} (or a custom class with module: <path>)`,
    );
  }
  const strict = PACING_TYPES.includes(type) || declaresArgs(cls);
  return instantiate(config, cls, strict, totalIterations, datasetSize);
}

/** {@link loadCustomPacing} then {@link createPacing}, with module paths relative to `baseDir`. */
export async function resolvePacing(
  config: PacingConfig,
  totalIterations: number,
  datasetSize: number,
  baseDir: string = process.cwd(),
): Promise<AbstractPace> {
  await loadCustomPacing(config, baseDir);
  return createPacingFrom(config, totalIterations, datasetSize, baseDir);
}
