import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { installPacked, packCurricula, REPO } from "../support/package.js";

/**
 * The package as a consumer gets it: `npm pack`, unpacked into a scratch project's node_modules
 * (its dependencies linked from this checkout's, so no network is needed). Installing runs no build
 * script (dist/ ships), the CLI runs from it, and the public API type-checks with
 * `skipLibCheck: false`, including every import the README and the docs show.
 */
const repo = REPO;
const scratch = mkdtempSync(join(tmpdir(), "curricula-consumer-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const manifest = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** `import { a, b } from "curricula"` statements of the docs (multi-line ones included). */
function docImports(): { file: string; names: string[] }[] {
  const files = ["README.md", ...readdirSync(join(repo, "docs")).map((f) => join("docs", f))];
  const tutorials = join(repo, "docs", "tutorials");
  files.push(...readdirSync(tutorials).map((f) => join("docs", "tutorials", f)));
  const out: { file: string; names: string[] }[] = [];
  for (const file of files.filter((f) => f.endsWith(".md"))) {
    const text = readFileSync(join(repo, file), "utf8");
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
      expect(m[2], `${file} imports from ${m[2]}; docs import from "curricula" only`).toBe("curricula");
      // Prose like `import { ... } from "curricula"` names nothing.
      const names = (m[1] ?? "")
        .split(",")
        .map((n) => n.trim())
        .filter((n) => /^(type\s+)?[A-Za-z_$][\w$]*$/.test(n));
      out.push({ file, names });
    }
  }
  return out;
}

function readmeExample(): string {
  const text = readFileSync(join(repo, "README.md"), "utf8");
  const block = /From TypeScript[\s\S]*?```ts\n([\s\S]*?)```/.exec(text)?.[1];
  if (!block) throw new Error("README.md: no ```ts block after 'From TypeScript'");
  return block;
}

describe("the packed tarball in a consumer project (needs dist/ built)", () => {
  let tarball = "";
  const project = join(scratch, "consumer");
  const installed = join(project, "node_modules", "curricula");

  it("packs dist/, configs, data, the PyTorch modules and the licences, and declares no install-time script", () => {
    const packed = packCurricula(scratch);
    tarball = packed.tarball;
    const files = packed.files;
    for (const f of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli/main.js",
      "dist/explore/app.js",
      "bin/curricula.js",
      "configs/config.yaml",
      "LICENSE",
      "data/sklearn/LICENSE",
      "python/curricula_models.py",
    ]) {
      expect(files, f).toContain(f);
    }
    expect(files.some((f) => f.startsWith("src/"))).toBe(false);
    for (const hook of ["preinstall", "install", "postinstall", "prepare"]) {
      expect(
        manifest.scripts[hook],
        `scripts.${hook} would run a build in a consumer's install`,
      ).toBeUndefined();
    }
  });

  it("runs the CLI from the unpacked package, with nothing built on install", () => {
    installPacked(tarball, project, [...Object.keys(manifest.dependencies), "typescript", "@types/node"], {
      type: "module",
    });
    const bin = join(installed, "bin", "curricula.js");
    const version = spawnSync(process.execPath, [bin, "--version"], { cwd: project, encoding: "utf8" });
    expect(version.status, version.stderr).toBe(0);
    const shown = spawnSync(process.execPath, [bin, "show", "dataset", "Digits"], {
      cwd: project,
      encoding: "utf8",
    });
    expect(shown.stdout).toContain("type: Digits");
    const trained = spawnSync(process.execPath, [bin, "train", "iterations=1", "--no-progress"], {
      cwd: project,
      encoding: "utf8",
      env: { ...process.env, CI: "1" },
    });
    expect(trained.status, trained.stderr).toBe(0);
    expect(existsSync(join(project, "results", "default", "training"))).toBe(true);
    // The explorer's front end is bundled at build time and shipped: its static copy needs nothing else.
    const explored = spawnSync(
      process.execPath,
      [bin, "explore", "results", "default", "--static", "explore.html"],
      { cwd: project, encoding: "utf8" },
    );
    expect(explored.status, explored.stderr).toBe(0);
    const page = readFileSync(join(project, "explore.html"), "utf8");
    expect(page).toContain('<script id="explore-data" type="application/json">');
    expect(page).not.toMatch(/<script[^>]+src=/);
  });

  it("type-checks with skipLibCheck: false, with the README example and every documented import", () => {
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ["node"],
        },
        include: ["*.ts"],
      }),
    );
    writeFileSync(join(project, "readme.ts"), readmeExample());
    const imports = docImports();
    expect(imports.length).toBeGreaterThan(5);
    const names = [...new Set(imports.flatMap((i) => i.names))].sort();
    writeFileSync(
      join(project, "docs.ts"),
      `import { ${names.join(", ")} } from "curricula";\nexport const all = [${names
        .filter((n) => !n.startsWith("type "))
        .join(", ")}];\n`,
    );
    const tsc = spawnSync(
      process.execPath,
      [join(project, "node_modules", "typescript", "bin", "tsc"), "-p", project],
      { cwd: project, encoding: "utf8" },
    );
    expect(tsc.status, `${tsc.stdout}${tsc.stderr}`).toBe(0);
  });
});
