/**
 * The torch addon builds where users have curricula: `npm pack`, unpacked into an empty project's
 * node_modules (its dependencies linked from this checkout's, so no network is needed), then
 * `npm run build:torch` inside node_modules/curricula compiles the addon there and it loads. Needs
 * libtorch (Debian's libtorch-dev; CI installs it); takes a few minutes (one more compile).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { installPacked, packCurricula, REPO } from "../support/package.js";
import { describeWith, systemFile } from "../support/system.js";

const repo = REPO;
const scratch = mkdtempSync(join(tmpdir(), "curricula-build-torch-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const manifest = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const libtorch = systemFile("/usr/include/torch/csrc/api/include/torch/torch.h", "libtorch-dev");

describeWith(libtorch, "npm run build:torch inside an installed package", () => {
  it("the build's needs are dependencies, not devDependencies", () => {
    expect(manifest.dependencies["node-addon-api"]).toBeDefined();
    expect(manifest.devDependencies["node-addon-api"]).toBeUndefined();
  });

  it("packs, unpacks into an empty project, builds the addon in node_modules/curricula, and loads it", () => {
    const { tarball } = packCurricula(scratch);
    const installed = installPacked(tarball, join(scratch, "consumer"), Object.keys(manifest.dependencies));
    expect(existsSync(join(installed, "native", "torch", "build"))).toBe(false);
    const build = spawnSync("npm", ["run", "build:torch"], {
      cwd: installed,
      encoding: "utf8",
      env: { ...process.env, JOBS: "2" },
      timeout: 900_000,
    });
    expect(build.status, `${build.stdout}\n${build.stderr}`).toBe(0);
    const addon = join(installed, "native", "torch", "build", "Release", "curricula_torch.node");
    expect(existsSync(addon)).toBe(true);
    const loaded = createRequire(import.meta.url)(addon) as { info(): { version: string } };
    expect(loaded.info().version).toMatch(/^\d+\.\d+/);
  }, 900_000);

  it("a missing node-addon-api is named as the cause", () => {
    const project = join(scratch, "bare");
    const installed = join(project, "node_modules", "curricula");
    mkdirSync(join(installed, "native", "torch"), { recursive: true });
    for (const f of ["build.mjs", "find-libtorch.mjs", "binding.gyp"]) {
      writeFileSync(join(installed, "native", "torch", f), readFileSync(join(repo, "native", "torch", f)));
    }
    writeFileSync(join(installed, "package.json"), JSON.stringify({ name: "curricula", version: "0.0.0" }));
    const run = spawnSync(process.execPath, [join(installed, "native", "torch", "build.mjs")], {
      cwd: installed,
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("node-addon-api is missing (a dependency of curricula)");
  });
});
