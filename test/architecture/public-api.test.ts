/**
 * The package entry point is curated: src/index.ts names every export (no `export *`), each one is
 * documented in docs/api.md, and every `import { … } from "curricula"` in the docs uses only them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const INDEX = readFileSync(join(ROOT, "src/index.ts"), "utf8");

/** Names exported by `export { a, type B, c as d } from "…"` statements. */
function exportedNames(source: string): string[] {
  const names: string[] = [];
  for (const m of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of (m[1] as string).split(",")) {
      const name = item
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/)
        .pop();
      if (name && /^[A-Za-z_$][\w$]*$/.test(name)) names.push(name);
    }
  }
  return names;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownFiles(join(dir, e.name)) : e.name.endsWith(".md") ? [join(dir, e.name)] : [],
  );
}

describe("public API", () => {
  const exported = exportedNames(INDEX);

  it("src/index.ts names its exports (no export *)", () => {
    expect(INDEX).not.toMatch(/export\s+\*/);
    expect(exported.length).toBeGreaterThan(20);
    expect(new Set(exported).size).toBe(exported.length);
  });

  it("every exported name is documented in docs/api.md", () => {
    const api = readFileSync(join(ROOT, "docs/api.md"), "utf8");
    const missing = exported.filter((name) => !api.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('the docs and README import from "curricula" only what it exports', () => {
    const files = [...markdownFiles(join(ROOT, "docs")), join(ROOT, "README.md")];
    const unknown: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+["']curricula["']/g)) {
        for (const name of exportedNames(`export {${m[1]}}`)) {
          if (!exported.includes(name)) unknown.push(`${file.slice(ROOT.length + 1)}: ${name}`);
        }
      }
      if (/from\s+["'](\.\.?\/)+src\//.test(text))
        unknown.push(`${file.slice(ROOT.length + 1)}: imports from src/`);
    }
    expect(unknown).toEqual([]);
  });

  it("exports the comparison and label-noise functions a library user needs, and they work from the root", async () => {
    const api = await import("../../src/index.js");
    const functions = [
      "compareExperiment",
      "compareRuns",
      "verdictLine",
      "computeLine",
      "comparePaired",
      "parseLabelNoise",
      "withLabelNoise",
      "drawLabelNoise",
      "labelNoiseRows",
      "noiseDetection",
    ];
    for (const name of functions) {
      expect(exported).toContain(name);
      expect(typeof (api as Record<string, unknown>)[name]).toBe("function");
    }
    expect(api.LABEL_NOISE_KINDS).toEqual(["symmetric", "pairflip", "map"]);
    const config = api.parseLabelNoise({ rate: 0.4, kind: "symmetric", seed: 3 });
    expect(config).toEqual({ rate: 0.4, kind: "symmetric", seed: 3 });
    const labels = Int32Array.from({ length: 10 }, (_, i) => i % 3);
    const noise = api.drawLabelNoise(labels, ["a", "b", "c"], config as NonNullable<typeof config>);
    expect(noise.positions.length).toBe(4);
    for (let i = 0; i < 4; i++) expect(noise.noisy[i]).not.toBe(noise.original[i]);
    const paired = api.comparePaired([0.9, 0.8, 0.85], [0.92, 0.83, 0.86]);
    expect(paired.meanDifference).toBeCloseTo(0.02, 12);
    expect(paired.n).toBe(3);
  });

  it("the checks see a missing name", () => {
    expect(
      exportedNames('export { a, type B } from "./x.js";\nexport type { C as D } from "./y.js";'),
    ).toEqual(["a", "B", "D"]);
  });
});
