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

  it("the checks see a missing name", () => {
    expect(
      exportedNames('export { a, type B } from "./x.js";\nexport type { C as D } from "./y.js";'),
    ).toEqual(["a", "B", "D"]);
  });
});
