import { spawnSync } from "node:child_process";
import type { SystemDependency } from "./system.js";

/**
 * numpy/scipy reference computations for tests. The tests that use them need `python3` with numpy and
 * scipy (Debian: python3-numpy, python3-scipy, installed by .ci/run); they declare it with
 * `describeWith(numpyScipy, …)`, the skip policy of test/support/system.ts.
 */
export const PYTHON = process.env.PYTHON ?? "python3";

function probe(): string | null {
  const result = spawnSync(PYTHON, ["-c", "import numpy, scipy"], { encoding: "utf8" });
  if (result.error) return `${PYTHON} not found (${result.error.message})`;
  if (result.status !== 0)
    return `${PYTHON} cannot import numpy and scipy: ${result.stderr.trim().split("\n").pop()}`;
  return null;
}

/** numpy and scipy, for the reference tests (test/support/system.ts `describeWith`). */
export const numpyScipy: SystemDependency = {
  name: "numpy and scipy (apt-get install python3-numpy python3-scipy)",
  problem: probe(),
};

/**
 * Runs a Python script with arguments (and `input` on stdin, for data too large for a command line);
 * returns what it prints on stdout parsed as JSON.
 */
export function python<T = unknown>(script: string, args: readonly string[] = [], input?: string): T {
  const result = spawnSync(PYTHON, ["-c", script, ...args], {
    encoding: "utf8",
    input,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw new Error(`python failed to start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`python failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
