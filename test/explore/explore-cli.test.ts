import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExploreTable } from "../../src/explore/types.js";
import { BIN, runCli } from "../support/cli.js";
import { digitsExperiment } from "./fixture.js";

/** `curricula explore` from the built CLI (dist/): prints its URL, serves, stops on SIGINT; --static. */
let fixture: Awaited<ReturnType<typeof digitsExperiment>>;

beforeAll(async () => {
  fixture = await digitsExperiment();
}, 120_000);
afterAll(() => rmSync(fixture.resultsDir, { recursive: true, force: true }));

describe("curricula explore (built CLI)", () => {
  it("prints the loopback URL, serves the experiment until SIGINT, then exits 0", {
    timeout: 60_000,
  }, async () => {
    const child = spawn(process.execPath, [BIN, "explore", fixture.resultsDir, "default", "--port", "0"], {
      env: { ...process.env, CI: "1" },
    });
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const url = await new Promise<string>((done, fail) => {
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = /^(http:\/\/\S+)\n/m.exec(stdout);
        if (line) done(line[1] as string);
      });
      void exited.then((code) => fail(new Error(`exited ${code} before printing a URL: ${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const table = (await (await fetch(`${url}api/table`)).json()) as ExploreTable;
    expect(table.columns.map((c) => c.label)).toEqual(["CELoss", "CELoss rank"]);
    expect(table.runs).toHaveLength(2);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("--static writes a read-only copy, prints its path and exits", () => {
    const out = join(fixture.resultsDir, "copy.html");
    const result = runCli(["explore", fixture.resultsDir, "default", "--static", out], fixture.resultsDir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(out);
    expect(readFileSync(out, "utf8")).toContain('"readOnly":true');
  });

  it("refuses a bad port (usage error, exit 2) and a missing experiment (exit 1, naming the folder)", () => {
    const port = runCli(["explore", fixture.resultsDir, "default", "--port", "http"], fixture.resultsDir);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain("--port expects an integer");
    const missing = runCli(["explore", fixture.resultsDir, "nothing-here"], fixture.resultsDir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(join(fixture.resultsDir, "nothing-here"));
    expect(existsSync(join(fixture.resultsDir, "nothing-here"))).toBe(false);
  });
});
