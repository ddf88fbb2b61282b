/**
 * Which engine a saved model is scored on (src/scoring/abstract-score.ts `scoringEngine`): a fresh
 * scoring process takes the engine the training run recorded (auto for torch), not wasm by default.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { scoringEngine } from "../../src/scoring/abstract-score.js";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function run(engine: string | null): string {
  const dir = mkdtempSync(join(tmpdir(), "curricula-scoring-engine-"));
  made.push(dir);
  if (engine !== null) writeFileSync(join(dir, "config.yaml"), `seed: 1\nengine: ${engine}\n`);
  return join(dir, "_best");
}

it("follows CURRICULA_ENGINE, then the active engine, then the run's recorded engine, else auto", () => {
  const saved = process.env.CURRICULA_ENGINE;
  try {
    delete process.env.CURRICULA_ENGINE;
    expect(scoringEngine(run("torch"), undefined)).toBe("auto");
    expect(scoringEngine(run("wasm"), undefined)).toBe("wasm");
    expect(scoringEngine(run(null), undefined)).toBe("auto");
    expect(scoringEngine(run("torch"), "wasm")).toBe("wasm");
    expect(scoringEngine(run("wasm"), "torch")).toBe("torch");
    process.env.CURRICULA_ENGINE = "wasm";
    expect(scoringEngine(run("torch"), "torch")).toBeNull();
  } finally {
    if (saved === undefined) delete process.env.CURRICULA_ENGINE;
    else process.env.CURRICULA_ENGINE = saved;
  }
});
