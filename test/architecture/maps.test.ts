/**
 * Keeps the maps of the codebase true: README's "Layout" names every folder of src/ (one line
 * each), docs/architecture.md names every folder of src/ down to two levels, and every folder
 * either of them names exists. The test tree mirrors src/: each folder of test/ is a folder of
 * src/ or one of the few folders that test the package as a whole (TEST_ONLY_FOLDERS).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

/** Folders of test/ that have no src/ folder of the same name, and why. */
const TEST_ONLY_FOLDERS: Readonly<Record<string, string>> = {
  acceptance: "end-to-end runs of the CLI on real data",
  architecture: "the layering, the public API and these maps",
  cluster: "the executors against real SLURM and Redis servers",
  package: "the packed package, installed into a consumer project",
  support: "helpers shared by the tests (test/README.md)",
};

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

/** A "## <heading>" section of a Markdown text (up to the next "## " heading); empty when there is none. */
function section(text: string, heading: string): string {
  const start = text.search(new RegExp(`^## ${heading}\\s*$`, "m"));
  if (start < 0) return "";
  const rest = text.slice(start + 1);
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
  contributing: string;
  architecture: string;
  /** Whether a path relative to the repository root is an existing folder. */
  isFolder: (path: string) => boolean;
}

/** Every way the maps disagree with the tree, as readable lines (empty when they agree). */
function mapProblems({ srcFolders, readme, contributing, architecture, isFolder }: Maps): string[] {
  const problems: string[] = [];
  // One line per folder: README's Layout and CONTRIBUTING's map name the top-level folders.
  const folderMaps: [string, string][] = [];
  for (const [file, text, heading] of [
    ["README.md", readme, "Layout"],
    ["CONTRIBUTING.md", contributing, "Codebase map"],
  ] as const) {
    const map = section(text, heading);
    if (map) folderMaps.push([`${file} "${heading}"`, map]);
    else problems.push(`${file} has no "## ${heading}" section`);
  }
  const inArchitecture = new Set(namedSrcFolders(architecture));
  for (const [doc, map] of folderMaps) {
    const named = new Set(namedSrcFolders(map));
    for (const folder of srcFolders) {
      if (!folder.includes("/") && !named.has(folder)) problems.push(`${doc} does not name src/${folder}/`);
    }
    for (const folder of named) {
      if (!isFolder(`src/${folder}`)) problems.push(`${doc} names src/${folder}/, which does not exist`);
    }
    for (const folder of layoutRootFolders(map)) {
      if (folder !== "src" && !isFolder(folder))
        problems.push(`${doc} names ${folder}/, which does not exist`);
    }
  }
  // The architecture page names every folder down to two levels.
  for (const folder of srcFolders) {
    if (!inArchitecture.has(folder)) problems.push(`docs/architecture.md does not name src/${folder}/`);
  }
  for (const folder of inArchitecture) {
    if (!isFolder(`src/${folder}`))
      problems.push(`docs/architecture.md names src/${folder}/, which does not exist`);
  }
  return problems;
}

/** Every folder of test/ that mirrors no src/ folder and is not a test-only folder. */
function testTreeProblems(testFolders: readonly string[], srcFolders: readonly string[]): string[] {
  const src = new Set(srcFolders);
  return testFolders
    .filter((folder) => !src.has(folder) && !(folder in TEST_ONLY_FOLDERS))
    .map(
      (folder) =>
        `test/${folder}/ mirrors no src/ folder: move its tests to the test/ folder of the src/ folder they ` +
        `test (or add it to TEST_ONLY_FOLDERS in test/architecture/maps.test.ts and to test/README.md)`,
    );
}

const isFolder = (path: string): boolean =>
  existsSync(join(ROOT, path)) && statSync(join(ROOT, path)).isDirectory();

describe("the maps of the codebase", () => {
  it("README's Layout, CONTRIBUTING's map and docs/architecture.md name every src/ folder, and every folder they name exists", () => {
    const problems = mapProblems({
      srcFolders: foldersOf(join(ROOT, "src"), 2),
      readme: readFileSync(join(ROOT, "README.md"), "utf8"),
      contributing: readFileSync(join(ROOT, "CONTRIBUTING.md"), "utf8"),
      architecture: readFileSync(join(ROOT, "docs/architecture.md"), "utf8"),
      isFolder,
    });
    expect(problems).toEqual([]);
  });

  it("every folder of test/ is a folder of src/ or a test-only folder", () => {
    const problems = testTreeProblems(foldersOf(join(ROOT, "test"), 1), foldersOf(join(ROOT, "src"), 1));
    expect(problems).toEqual([]);
  });

  it("test/README.md describes every test-only folder", () => {
    const readme = readFileSync(join(ROOT, "test/README.md"), "utf8");
    const missing = Object.keys(TEST_ONLY_FOLDERS).filter((folder) => !readme.includes(`${folder}/`));
    expect(missing).toEqual([]);
  });
});

describe("the map checks themselves (fake trees)", () => {
  const map = (heading: string) =>
    [
      "# x",
      `## ${heading}`,
      "```",
      "src/util/     helpers",
      "src/engine/   engines",
      "native/       the addon",
      "```",
      "## Next",
      "src/gone/ is mentioned outside the map and does not count",
    ].join("\n");
  const readme = map("Layout");
  const contributing = map("Codebase map");
  const architecture =
    "`src/util/` and `src/engine/`, with `src/engine/torch/` (see src/engine/torch/addon.ts)";
  const folders = new Set(["src", "src/util", "src/engine", "src/engine/torch", "native"]);
  const fake = (srcFolders: string[], overrides: Partial<Maps> = {}): string[] =>
    mapProblems({
      srcFolders,
      readme,
      contributing,
      architecture,
      isFolder: (p) => folders.has(p),
      ...overrides,
    });

  it("a tree that matches its maps has no problems", () => {
    expect(fake(["util", "engine", "engine/torch"])).toEqual([]);
  });

  it("a src/ folder missing from the maps is named, once per map", () => {
    folders.add("src/plots");
    expect(fake(["util", "engine", "engine/torch", "plots"])).toEqual([
      'README.md "Layout" does not name src/plots/',
      'CONTRIBUTING.md "Codebase map" does not name src/plots/',
      "docs/architecture.md does not name src/plots/",
    ]);
    folders.delete("src/plots");
  });

  it("a second-level folder must be in docs/architecture.md, not in the one-line-per-folder maps", () => {
    folders.add("src/engine/wasm");
    expect(fake(["util", "engine", "engine/torch", "engine/wasm"])).toEqual([
      "docs/architecture.md does not name src/engine/wasm/",
    ]);
    folders.delete("src/engine/wasm");
  });

  it("a folder a map names that does not exist is named", () => {
    folders.delete("src/engine/torch");
    folders.delete("native");
    expect(fake(["util", "engine"])).toEqual([
      'README.md "Layout" names native/, which does not exist',
      'CONTRIBUTING.md "Codebase map" names native/, which does not exist',
      "docs/architecture.md names src/engine/torch/, which does not exist",
    ]);
    folders.add("src/engine/torch");
    folders.add("native");
  });

  it("a missing map section is one problem", () => {
    expect(fake(["util", "engine", "engine/torch"], { readme: "# x\n## Usage\n" })).toEqual([
      'README.md has no "## Layout" section',
    ]);
  });

  it("a test folder that mirrors nothing is named; src mirrors and test-only folders pass", () => {
    const problems = testTreeProblems(["analysis", "engine", "support"], ["engine", "util"]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^test\/analysis\/ mirrors no src\/ folder/);
  });
});
