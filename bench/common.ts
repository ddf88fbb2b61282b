/** Helpers the benchmarks share: the PyTorch side's python, the bench scripts, the machine's load. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A bench script by name (`train_torch.py`), found from the compiled bench module (under
 * node_modules/.cache) or the current directory.
 */
export function benchScript(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "bench", name);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  const cwd = join(process.cwd(), "bench", name);
  if (existsSync(cwd)) return cwd;
  throw new Error(`bench/${name} not found; run from the repository root`);
}

/**
 * The python that imports torch (and the other `modules`, e.g. "torch, torchvision"): BENCH_PYTHON,
 * else python3, else /usr/bin/python3 (Debian's python3-torch lives in the system python; a
 * pyenv/venv python3 first on PATH may lack it). Null when none does.
 */
export function torchPython(modules = "torch"): string | null {
  const candidates = [process.env.BENCH_PYTHON, "python3", "/usr/bin/python3"].filter((p): p is string =>
    Boolean(p),
  );
  for (const python of candidates) {
    if (spawnSync(python, ["-c", `import ${modules}`], { stdio: "ignore" }).status === 0) return python;
  }
  return null;
}

/** The load averages (1, 5, 15 min) and the core count: the machine may be shared. */
export function loadAverage(): string {
  return `${loadavg()
    .map((v) => v.toFixed(2))
    .join(", ")} on ${cpus().length} cores`;
}
