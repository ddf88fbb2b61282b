import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../../util/errors.js";
import type { AbstractSampler } from "./abstract-sampler.js";
import { InfoBatch } from "./info-batch.js";
import { Pools } from "./pools.js";
import { SelfPaced } from "./self-paced.js";
import { StaticPrune } from "./static-prune.js";

/** A dynamic sampler class: `new Cls(args)`; `defaults` lists the keyword arguments it accepts. */
export type SamplerClass = (new (
  // biome-ignore lint/suspicious/noExplicitAny: each class narrows its own arguments
  args?: any,
) => AbstractSampler) & {
  readonly defaults?: Readonly<Record<string, unknown>>;
  readonly usesScore?: boolean;
};

const BUILT_IN: ReadonlyArray<readonly [string, SamplerClass]> = [
  ["InfoBatch", InfoBatch],
  ["StaticPrune", StaticPrune],
  ["SelfPaced", SelfPaced],
  ["Pools", Pools],
];

/** Built-in dynamic samplers (ids of `curriculum/sampling` with `curriculum=Dynamic`). */
export const DYNAMIC_SAMPLERS: readonly string[] = BUILT_IN.map(([id]) => id);

const registry = new Map<string, SamplerClass>(BUILT_IN);

/** Config keys that are not constructor arguments. */
const RESERVED = new Set(["id", "short", "type", "module", "class"]);

/** Registers a dynamic sampler class under an id (library users; config files use `module`). */
export function registerSampler(id: string, cls: SamplerClass): void {
  if (DYNAMIC_SAMPLERS.includes(id)) {
    throw new ConfigError("curriculum.sampling.id", `"${id}" is a built-in sampler and cannot be replaced`);
  }
  registry.set(id, cls);
}

/** Duck-typed (a user module may extend AbstractSampler from another copy of the package). */
function isSamplerClass(value: unknown): value is SamplerClass {
  if (typeof value !== "function") return false;
  const proto = value.prototype as Record<string, unknown> | undefined;
  return (
    typeof proto?.sample === "function" &&
    typeof proto?.state === "function" &&
    typeof proto?.load === "function" &&
    typeof proto?.begin === "function"
  );
}

/**
 * The class of a `curriculum.sampling` config of a Dynamic curriculum: a user's module
 * (`module: ./my-sampler.js`, resolved against `baseDir`; `class: <export>`, default the id)
 * exporting a subclass of AbstractSampler, else a built-in or registered id.
 */
export async function resolveSamplerClass(
  sampling: Record<string, unknown>,
  baseDir: string = process.cwd(),
): Promise<SamplerClass> {
  const id = String(sampling.id);
  if (sampling.module !== undefined && sampling.module !== null) {
    if (typeof sampling.module !== "string" || sampling.module.length === 0) {
      throw new ConfigError(
        "curriculum.sampling.module",
        `expected a path to a JavaScript module, got ${JSON.stringify(sampling.module)}`,
      );
    }
    const path = isAbsolute(sampling.module) ? sampling.module : resolve(baseDir, sampling.module);
    const name = typeof sampling.class === "string" ? sampling.class : id;
    let exports: Record<string, unknown>;
    try {
      exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(
        "curriculum.sampling.module",
        `cannot import ${path}: ${(error as Error).message}`,
      );
    }
    const cls = exports[name];
    if (!isSamplerClass(cls)) {
      throw new ConfigError(
        "curriculum.sampling.class",
        `${path} has no exported sampler class "${name}" (a subclass of AbstractSampler with sample, state and load); exports: ${Object.keys(exports).join(", ") || "none"}`,
      );
    }
    return cls;
  }
  const cls = registry.get(id);
  if (!cls) {
    throw new ConfigError(
      "curriculum.sampling.id",
      `unknown dynamic sampler "${id}"; expected one of: ${[...registry.keys()].join(", ")} (or module + class of your own)`,
    );
  }
  return cls;
}

/**
 * The keyword arguments of a sampling config (its keys besides id, short, module, class), checked
 * against the class's `defaults` when it declares any: an unknown key is an error, not ignored.
 */
export function samplerArgs(sampling: Record<string, unknown>, cls: SamplerClass): Record<string, unknown> {
  const allowed = Object.keys(cls.defaults ?? {});
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sampling)) {
    if (RESERVED.has(key) || key.startsWith("_")) continue;
    if (allowed.length > 0 && !allowed.includes(key)) {
      throw new ConfigError(
        `curriculum.sampling.${key}`,
        `not an argument of the ${String(sampling.id)} sampler (expected one of: ${allowed.join(", ")})`,
      );
    }
    if (value === "???") throw new ConfigError(`curriculum.sampling.${key}`, "missing value (???)");
    const expected = cls.defaults?.[key];
    if (expected !== undefined && typeof expected !== typeof value) {
      throw new ConfigError(
        `curriculum.sampling.${key}`,
        `expected a ${typeof expected}, got ${JSON.stringify(value)}`,
      );
    }
    args[key] = value;
  }
  return args;
}

/** Builds the sampler of a Dynamic curriculum's `curriculum.sampling` config. */
export async function createSampler(
  sampling: Record<string, unknown>,
  baseDir: string = process.cwd(),
): Promise<{ sampler: AbstractSampler; cls: SamplerClass }> {
  const cls = await resolveSamplerClass(sampling, baseDir);
  const args = samplerArgs(sampling, cls);
  try {
    return { sampler: new cls(args), cls };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError("curriculum.sampling", (error as Error).message);
  }
}
