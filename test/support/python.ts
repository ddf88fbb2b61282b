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

/** A python3 that imports torch and numpy: CURRICULA_PYTHON, Debian's /usr/bin/python3, python3; null if none. */
function findTorchPython(): string | null {
  for (const candidate of [process.env.CURRICULA_PYTHON, "/usr/bin/python3", "python3"]) {
    if (!candidate) continue;
    const r = spawnSync(candidate, ["-c", "import torch, numpy"], { encoding: "utf8" });
    if (r.status === 0) return candidate;
  }
  return null;
}

/** The python3 with PyTorch (Debian's python3-torch), or null. */
export const TORCH_PYTHON = findTorchPython();

/** PyTorch for Python, for the tests that check curricula's files against it (`describeWith`). */
export const torchPython: SystemDependency = {
  name: "PyTorch for python3 (apt-get install python3-torch python3-numpy)",
  problem: TORCH_PYTHON
    ? null
    : "no python3 imports torch and numpy (CURRICULA_PYTHON, /usr/bin/python3, python3)",
};
