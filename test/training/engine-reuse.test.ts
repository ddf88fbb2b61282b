/**
 * The engine a run computed on is part of the run: config.yaml holds the resolved engine (auto
 * becomes wasm or torch), and a finished run re-run on the other engine is a config mismatch, never
 * silently reused; auto resolving to the same engine reuses it, and an older run saved as `auto`
 * is read as the engine its hardware.yaml recorded.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainRunWith } from "../../src/assembly/train-run.js";
import { ConfigError } from "../../src/util/errors.js";
import { readYaml, writeYaml } from "../../src/util/yaml-io.js";
import { fakeDeps } from "./fakes.js";
import { blobConfig, tempDir } from "./helpers.js";

const root = tempDir("engine-reuse");
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { log: null, progress: false } as const;

/** Fake deps whose engine=auto resolves to `auto`. */
function deps(auto: "wasm" | "torch") {
  const d = fakeDeps();
  return {
    ...d,
    resolveEngine: async (choice: string) => (choice === "auto" ? auto : (choice as "wasm" | "torch")),
  };
}

describe("the engine in the reuse check", () => {
  for (const [first, second] of [
    ["wasm", "torch"],
    ["torch", "wasm"],
  ] as const) {
    it(`a finished ${first} run re-run with engine=${second} is a config mismatch`, async () => {
      const dir = join(root, `${first}-then-${second}`);
      await trainRunWith(deps("wasm"), blobConfig({ iterations: 2, engine: first }), {
        runDir: dir,
        ...quiet,
      });
      expect((readYaml(join(dir, "config.yaml")) as { engine: string }).engine).toBe(first);
      const error = await trainRunWith(deps("wasm"), blobConfig({ iterations: 2, engine: second }), {
        runDir: dir,
        ...quiet,
      }).catch((e) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain(`engine: "${first}" (saved) vs "${second}" (requested)`);
      // The same engine (asked for by name or resolved from auto) reuses the run.
      const again = await trainRunWith(deps(first), blobConfig({ iterations: 2, engine: "auto" }), {
        runDir: dir,
        ...quiet,
      });
      expect(again.skipped).toBe(true);
    });
  }

  it("engine=auto is written as the engine it resolved to", async () => {
    const dir = join(root, "auto");
    await trainRunWith(deps("torch"), blobConfig({ iterations: 2, engine: "auto" }), {
      runDir: dir,
      ...quiet,
    });
    expect((readYaml(join(dir, "config.yaml")) as { engine: string }).engine).toBe("torch");
  });

  it("an older run saved with engine auto compares as the engine its hardware.yaml names", async () => {
    const dir = join(root, "older-auto");
    await trainRunWith(deps("wasm"), blobConfig({ iterations: 2, engine: "wasm" }), {
      runDir: dir,
      ...quiet,
    });
    const config = readYaml(join(dir, "config.yaml")) as Record<string, unknown>;
    writeYaml(join(dir, "config.yaml"), { ...config, engine: "auto" });
    writeFileSync(join(dir, "hardware.yaml"), "engine:\n  name: wasm\n");
    const same = await trainRunWith(deps("wasm"), blobConfig({ iterations: 2, engine: "wasm" }), {
      runDir: dir,
      ...quiet,
    });
    expect(same.skipped).toBe(true);
    const other = trainRunWith(deps("wasm"), blobConfig({ iterations: 2, engine: "torch" }), {
      runDir: dir,
      ...quiet,
    });
    await expect(other).rejects.toThrow(/engine: "wasm" \(saved\) vs "torch" \(requested\)/);
  });
});
