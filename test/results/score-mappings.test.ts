import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readScoreMappings, recordScoreMapping } from "../../src/results/score-mappings.js";
import { acquireLock } from "../../src/util/lock.js";
import { writeYaml } from "../../src/util/yaml-io.js";

const root = mkdtempSync(join(tmpdir(), "curricula-score-mappings-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("mappings.yaml", () => {
  it("keeps every score id's entry and reads back what was recorded", async () => {
    const folder = join(root, "kept");
    expect(readScoreMappings(folder)).toEqual({});
    await recordScoreMapping(folder, "CELoss", ["a", "b"]);
    await recordScoreMapping(folder, "CELoss-2", ["c"]);
    await recordScoreMapping(folder, "CELoss", ["a"]);
    expect(readScoreMappings(folder)).toEqual({ CELoss: ["a"], "CELoss-2": ["c"] });
  });

  it("waits while another process holds the file's lock, then adds its entry to the other's", async () => {
    const folder = join(root, "locked");
    await recordScoreMapping(folder, "First", ["r1"]);
    const held = acquireLock(join(folder, "mappings.yaml"));
    if ("heldBy" in held) throw new Error(`lock not taken: ${held.heldBy}`);
    let done = false;
    const recording = recordScoreMapping(folder, "Second", ["r2"]).then(() => {
      done = true;
    });
    // The holder (standing for another process) writes its own entry meanwhile; a few of the
    // waiter's retries pass first.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(done, "recorded while the lock was held").toBe(false);
    writeYaml(join(folder, "mappings.yaml"), { First: ["r1"], Third: ["r3"] });
    held.release();
    await recording;
    expect(readScoreMappings(folder)).toEqual({ First: ["r1"], Third: ["r3"], Second: ["r2"] });
    expect(existsSync(join(folder, ".locks", "mappings.yaml.lock"))).toBe(false);
  });
});
