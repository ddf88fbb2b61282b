/**
 * Keeps the maps of the codebase true: README's "Layout" names every folder of src/ (one line
 * each), docs/architecture.md names every folder of src/ down to two levels, and every folder
 * either of them names exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

/** Folders under `dir`, as paths relative to it, down to `depth` levels (`a`, `a/b`). */
function foldersOf(dir: string, depth: number): string[] {
  const found: string[] = [];
  const walk = (relative: string, level: number): void => {
    for (const name of readdirSync(join(dir, relative)).sort()) {
      const path = relative ? `${relative}/${name}` : name;
      if (!statSync(join(dir, path)).isDirectory()) continue;
      found.push(path);
      if (level < depth) walk(path, level + 1);
    }
  };
  walk("", 1);
  return found;
}

/** README's "## Layout" section (up to the next "## " heading); empty when there is none. */
function layoutSection(readme: string): string {
  const start = readme.search(/^## Layout\s*$/m);
  if (start < 0) return "";
  const rest = readme.slice(start + 1);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Every folder path a text names as `src/a/` or `src/a/b` (file names, with an extension, left out). */
function namedSrcFolders(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/(?<![\w./-])src\/([\w-]+(?:\/[\w-]+)*)(\/|(\.\w+))?/g)) {
    if (m[3]) {
      // a file: its folders are still named (src/engine/torch/addon.ts names src/engine/torch)
      const parts = (m[1] as string).split("/");
      parts.pop();
      if (parts.length > 0) names.add(parts.join("/"));
      continue;
    }
    names.add(m[1] as string);
  }
  return [...names].sort();
}

/** The first word of each line of the layout block that names a top-level folder (`native/`). */
function layoutRootFolders(layout: string): string[] {
  const block = /```[^\n]*\n([\s\S]*?)```/.exec(layout)?.[1] ?? "";
  return block
    .split("\n")
    .map((line) => /^([\w.-]+)\/\s/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

interface Maps {
  /** Folders of src/ relative to it, two levels deep (`engine`, `engine/torch`). */
  srcFolders: readonly string[];
  readme: string;
  architecture: string;
  /** Whether a path relative to the repository root is an existing folder. */
  isFolder: (path: string) => boolean;
}

/** Every way the maps disagree with the tree, as readable lines (empty when they agree). */
function mapProblems({ srcFolders, readme, architecture, isFolder }: Maps): string[] {
  const problems: string[] = [];
  const layout = layoutSection(readme);
  if (!layout) return ['README.md has no "## Layout" section'];
  const inLayout = new Set(namedSrcFolders(layout));
  const inArchitecture = new Set(namedSrcFolders(architecture));
  for (const folder of srcFolders) {
    const topLevel = !folder.includes("/");
    if (topLevel && !inLayout.has(folder)) {
      problems.push(`README.md "Layout" does not name src/${folder}/`);
    }
    if (!inArchitecture.has(folder)) problems.push(`docs/architecture.md does not name src/${folder}/`);
  }
  for (const [doc, named] of [
    ['README.md "Layout"', inLayout],
    ["docs/architecture.md", inArchitecture],
  ] as const) {
    for (const folder of named) {
      if (!isFolder(`src/${folder}`)) problems.push(`${doc} names src/${folder}/, which does not exist`);
    }
  }
  for (const folder of layoutRootFolders(layout)) {
    if (folder !== "src" && !isFolder(folder)) {
      problems.push(`README.md "Layout" names ${folder}/, which does not exist`);
    }
  }
  return problems;
}

const isFolder = (path: string): boolean =>
  existsSync(join(ROOT, path)) && statSync(join(ROOT, path)).isDirectory();

describe("the maps of the codebase", () => {
  it("README's Layout and docs/architecture.md name every src/ folder, and every folder they name exists", () => {
    const problems = mapProblems({
      srcFolders: foldersOf(join(ROOT, "src"), 2),
      readme: readFileSync(join(ROOT, "README.md"), "utf8"),
      architecture: readFileSync(join(ROOT, "docs/architecture.md"), "utf8"),
      isFolder,
    });
    expect(problems).toEqual([]);
  });
});

describe("the map checks themselves (fake trees)", () => {
  const readme = [
    "# x",
    "## Layout",
    "```",
    "src/util/     helpers",
    "src/engine/   engines",
    "native/       the addon",
    "```",
    "## Development",
    "src/gone/ is mentioned outside the Layout section and does not count",
  ].join("\n");
  const architecture =
    "`src/util/` and `src/engine/`, with `src/engine/torch/` (see src/engine/torch/addon.ts)";
  const folders = new Set(["src", "src/util", "src/engine", "src/engine/torch", "native"]);
  const fake = (srcFolders: string[], overrides: Partial<Maps> = {}): string[] =>
    mapProblems({ srcFolders, readme, architecture, isFolder: (p) => folders.has(p), ...overrides });

  it("a tree that matches its maps has no problems", () => {
    expect(fake(["util", "engine", "engine/torch"])).toEqual([]);
  });

  it("a src/ folder missing from either map is named", () => {
    folders.add("src/plots");
    expect(fake(["util", "engine", "engine/torch", "plots"])).toEqual([
      'README.md "Layout" does not name src/plots/',
      "docs/architecture.md does not name src/plots/",
    ]);
    folders.delete("src/plots");
  });

  it("a second-level folder must be in docs/architecture.md, not in README", () => {
    folders.add("src/engine/wasm");
    expect(fake(["util", "engine", "engine/torch", "engine/wasm"])).toEqual([
      "docs/architecture.md does not name src/engine/wasm/",
    ]);
    folders.delete("src/engine/wasm");
  });

  it("a folder either map names that does not exist is named", () => {
    folders.delete("src/engine/torch");
    folders.delete("native");
    expect(fake(["util", "engine"])).toEqual([
      "docs/architecture.md names src/engine/torch/, which does not exist",
      'README.md "Layout" names native/, which does not exist',
    ]);
    folders.add("src/engine/torch");
    folders.add("native");
  });

  it("a README without a Layout section is one problem", () => {
    expect(fake(["util"], { readme: "# x\n## Usage\n" })).toEqual(['README.md has no "## Layout" section']);
  });
});
