/**
 * Checks the layering of src/ (docs/architecture.md): every import of a project module goes to the
 * same folder or to a folder of a lower layer, never upward or sideways (lazy `import()`s too); only
 * src/engine imports a tensor library; no project module is imported behind a module-not-found guard.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/** Layers from the bottom up; folders in one layer must not import each other. */
const LAYERS: readonly (readonly string[])[] = [
  ["util"],
  ["config"],
  ["models", "data", "plots", "results"],
  ["engine"],
  ["training"],
  ["curriculum"],
  ["assembly"],
  ["scoring"],
  ["experiments"],
  ["report"],
  ["study", "explore"],
  ["cli"],
  ["index.ts"],
];

const TENSOR_PACKAGES = /^@tensorflow\/|\.node$|torch/;
const SRC = resolve(import.meta.dirname, "../../src");

interface ImportEdge {
  file: string;
  specifier: string;
  dynamic: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(file: string, text: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  for (const m of code.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']/g)) {
    edges.push({ file, specifier: m[1] as string, dynamic: false });
  }
  for (const m of code.matchAll(/(?:^|\n)\s*import\s*["']([^"']+)["']/g)) {
    edges.push({ file, specifier: m[1] as string, dynamic: false });
  }
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
    edges.push({ file, specifier: m[1] as string, dynamic: true });
  }
  return edges;
}

/** The top-level folder (or root file) of a path inside src/. */
function unitOf(path: string): string {
  return relative(SRC, path).split(/[\\/]/)[0] as string;
}

function layerOf(unit: string): number {
  const layer = LAYERS.findIndex((l) => l.includes(unit));
  if (layer < 0) throw new Error(`src/${unit} is in no layer: add it to LAYERS and docs/architecture.md`);
  return layer;
}

/** Every rule the imports of src/ break, as readable lines (empty when the layering holds). */
function layerViolations(edges: readonly ImportEdge[], guarded: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  for (const { file, specifier, dynamic } of edges) {
    const from = unitOf(file);
    const where = `src/${relative(SRC, file)}`;
    if (!specifier.startsWith(".")) {
      if (TENSOR_PACKAGES.test(specifier) && from !== "engine") {
        problems.push(`${where} imports the tensor library '${specifier}'; only src/engine may`);
      }
      continue;
    }
    if (dynamic && guarded.has(file)) {
      problems.push(
        `${where} imports project module '${specifier}' behind a module-not-found guard; import it plainly`,
      );
      continue;
    }
    const target = resolve(dirname(file), specifier);
    const to = unitOf(target);
    if (to === from) continue;
    const a = layerOf(from);
    const b = layerOf(to);
    if (b > a)
      problems.push(`${where} imports upward: ${from} (layer ${a}) → ${to} (layer ${b}) via '${specifier}'`);
    else if (b === a)
      problems.push(`${where} imports sideways: ${from} → ${to} (same layer) via '${specifier}'`);
  }
  return problems;
}

describe("layers and dependencies of src/", () => {
  const files = sourceFiles(SRC);
  const texts = new Map(files.map((f) => [f, readFileSync(f, "utf8")]));
  const edges = files.flatMap((f) => importsOf(f, texts.get(f) as string));
  const guarded = new Set(files.filter((f) => (texts.get(f) as string).includes("ERR_MODULE_NOT_FOUND")));

  it("every folder of src/ has a layer", () => {
    for (const f of files) expect(() => layerOf(unitOf(f))).not.toThrow();
  });

  it("no import runs upward or sideways, none is guarded, and only the engine imports a tensor library", () => {
    expect(layerViolations(edges, guarded)).toEqual([]);
  });

  it("the check itself flags upward (static and lazy), sideways and guarded imports and tfjs outside the engine", () => {
    const fake = (unit: string, text: string) => importsOf(join(SRC, unit, "x.ts"), text);
    const guardedFile = join(SRC, "experiments", "x.ts");
    const problems = layerViolations(
      [
        ...fake("training", 'import { a } from "../curriculum/index.js";'),
        ...fake("data", 'import type { B } from "../experiments/train.js";'),
        ...fake("models", 'import * as tf from "@tensorflow/tfjs-core";'),
        ...fake(
          "engine",
          'import { m } from "../models/index.js";\nimport * as tf from "@tensorflow/tfjs-core";',
        ),
        ...fake("models", 'export { x } from "../data/index.js";'),
        ...fake("experiments", 'const m = await import("../scoring/index.js");'),
        ...fake("training", 'const m = await import("../scoring/index.js");'),
      ],
      new Set([guardedFile]),
    );
    expect(problems).toHaveLength(6);
    expect(problems.join("\n")).toMatch(/training.*upward.*curriculum/);
    expect(problems.join("\n")).toMatch(/data.*upward.*experiments/);
    expect(problems.join("\n")).toMatch(/models.*tensor library/);
    expect(problems.join("\n")).toMatch(/models.*sideways.*data/);
    expect(problems.join("\n")).toMatch(/experiments.*module-not-found guard/);
    expect(problems.join("\n")).toMatch(/training.*upward.*scoring/);
  });
});
