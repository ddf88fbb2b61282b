import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { processAlive } from "../../src/util/atomic.js";

/** The state letter of /proc/<pid>/stat, or null when the process is gone. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return null;
  }
}

describe("processAlive", () => {
  it("a live process is alive, a zombie (killed, not reaped: what a lock holder is after a process-group SIGKILL) and a gone pid are not", async () => {
    expect(processAlive(process.pid)).toBe(true);
    // The shell starts `sleep 0` in the background and becomes `sleep 30`, which never reaps it.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const zombie = await new Promise<number>((resolve) => {
        parent.stdout.once("data", (chunk: Buffer) => resolve(Number(String(chunk).trim())));
      });
      const deadline = Date.now() + 30_000;
      while (procState(zombie) !== "Z" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(procState(zombie)).toBe("Z");
      expect(processAlive(zombie)).toBe(false);
      expect(processAlive(parent.pid as number)).toBe(true);
    } finally {
      parent.kill("SIGKILL");
    }
    expect(processAlive(2 ** 22 + 12345)).toBe(false);
  });
});
