import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Linux process helpers for signal tests (read from /proc). */

/** The state letter, parent pid and process group of a process, or null when it is gone. */
function stat(pid: number): { state: string; ppid: number; pgrp: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] as string, ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return null;
  }
}

/** The state letter of a process ("R", "S", "Z" for a zombie, …), or null when it is gone. */
export function processState(pid: number): string | null {
  return stat(pid)?.state ?? null;
}

/** True while the process runs (a zombie, exited but not reaped, counts as gone). */
export function isAlive(pid: number): boolean {
  const s = stat(pid);
  return s !== null && s.state !== "Z" && s.state !== "X";
}

/** Live processes whose `stat` passes `test`. */
function livePids(test: (s: { ppid: number; pgrp: number }) => boolean): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      const s = stat(pid);
      return s !== null && test(s) && isAlive(pid);
    });
}

/** Live child processes of `ppid`. */
export function childPids(ppid: number): number[] {
  return livePids((s) => s.ppid === ppid);
}

/** Live processes of the process group `pgid`. */
export function groupPids(pgid: number): number[] {
  return livePids((s) => s.pgrp === pgid);
}

/** Every path under `dir` (recursively) whose name contains `part`. */
export function findNamed(dir: string, part: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const here = entry.name.includes(part) ? [path] : [];
    return entry.isDirectory() ? [...here, ...findNamed(path, part)] : here;
  });
}

/** Resolves once `check` returns a value (polled every 100 ms); rejects after `timeoutMs`. */
export function waitFor<T>(check: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const value = check();
      if (value) {
        clearInterval(timer);
        resolve(value);
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }
    }, 100);
  });
}
