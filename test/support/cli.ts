import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built CLI (`npm test` runs tsc first, so dist/ is current). */
export const BIN = fileURLToPath(new URL("../../bin/curricula.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in `cwd` as a user would (CI=1: no interactive prompts or progress bars). */
export function runCli(args: readonly string[], cwd: string): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
