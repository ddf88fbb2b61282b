import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, afterEach, describe, expect, test, vi } from "vitest";
import { register } from "../../src/cli/commands/report.js";
import { FIXTURE_EXPERIMENT, writeFixture } from "./fixture.js";

const root = mkdtempSync(join(tmpdir(), "curricula-report-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function program(): Command {
  const p = new Command("curricula")
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  register(p);
  return p;
}

describe("curricula report", () => {
  test("writes the report and prints its path on stdout", async () => {
    writeFixture(root);
    const output = join(root, "out", "page.html");
    const writes: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    await program().parseAsync(["report", root, FIXTURE_EXPERIMENT, "-o", output, "--thumbnails", "0"], {
      from: "user",
    });
    expect(writes.join("")).toBe(`${output}\n`);
    expect(existsSync(output)).toBe(true);
  });

  test("a negative thumbnail count is a usage error", async () => {
    await expect(
      program().parseAsync(["report", root, FIXTURE_EXPERIMENT, "--thumbnails", "-1"], { from: "user" }),
    ).rejects.toMatchObject({ code: "commander.invalidArgument" });
  });

  test("a missing experiment is a runtime error naming the folder", async () => {
    await expect(program().parseAsync(["report", root, "missing"], { from: "user" })).rejects.toThrow(
      /missing: experiment folder not found/,
    );
  });
});
