import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { processAlive } from "../../src/util/atomic.js";
import { processState, waitFor } from "../support/processes.js";

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
      await waitFor(() => processState(zombie) === "Z", 30_000, `pid ${zombie} to become a zombie`);
      expect(processState(zombie)).toBe("Z");
      expect(processAlive(zombie)).toBe(false);
      expect(processAlive(parent.pid as number)).toBe(true);
    } finally {
      parent.kill("SIGKILL");
    }
    expect(processAlive(2 ** 22 + 12345)).toBe(false);
  });
});
