import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock, acquireLockFile, lockPath, removeStaleLock } from "../../src/util/lock.js";
import { waitFor } from "../support/processes.js";

const LOCK_MODULE = resolve(import.meta.dirname, "../../dist/util/lock.js");

/** A pid no process has (above the Linux default pid_max of 2^22). */
const DEAD_PID = 2 ** 22 + 12345;

/**
 * A child process that waits for `<dir>/go`, then tries to take the lock once; when it gets it, it
 * appends its pid to `<dir>/holders`, holds the lock 300 ms and releases it.
 */
const CHILD = `
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const [lockModule, dir, path] = process.argv.slice(1);
const { acquireLockFile } = await import(lockModule);
writeFileSync(join(dir, "ready-" + process.pid), "");
const sleeper = new Int32Array(new SharedArrayBuffer(4));
while (!existsSync(join(dir, "go"))) Atomics.wait(sleeper, 0, 0, 1);
const lock = acquireLockFile(path);
if ("release" in lock) {
  appendFileSync(join(dir, "holders"), process.pid + "\\n");
  Atomics.wait(sleeper, 0, 0, 300);
  lock.release();
}
`;

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((done) => child.on("close", (code) => done(code)));
}

describe("locks", () => {
  it("a lock is held once; a second taker is told who holds it; release frees it", () => {
    const dir = mkdtempSync(join(tmpdir(), "lock-"));
    const target = join(dir, "run");
    const first = acquireLock(target);
    expect("release" in first).toBe(true);
    const second = acquireLock(target);
    expect(second).toEqual({ heldBy: expect.stringMatching(new RegExp(`^pid ${process.pid} on `)) });
    if ("release" in first) first.release();
    expect(existsSync(lockPath(target))).toBe(false);
    const third = acquireLock(target);
    expect("release" in third).toBe(true);
    if ("release" in third) third.release();
  });

  it("takes over a stale lock (dead holder, or an unreadable file) and leaves no helper files", () => {
    const dir = mkdtempSync(join(tmpdir(), "lock-"));
    const path = join(dir, ".locks", "run.lock");
    mkdirSync(join(dir, ".locks"));
    for (const content of [
      JSON.stringify({ pid: DEAD_PID, host: hostname(), started: "then" }),
      "{not json",
    ]) {
      writeFileSync(path, content);
      const lock = acquireLockFile(path);
      expect("release" in lock).toBe(true);
      expect(JSON.parse(readFileSync(path, "utf8")).pid).toBe(process.pid);
      if ("release" in lock) lock.release();
      expect(readdirSync(join(dir, ".locks"))).toEqual([]);
    }
  });

  it("removeStaleLock removes a dead holder's lock and keeps a live one", () => {
    const dir = mkdtempSync(join(tmpdir(), "lock-"));
    const target = join(dir, "run");
    mkdirSync(join(dir, ".locks"));
    writeFileSync(lockPath(target), JSON.stringify({ pid: DEAD_PID, host: hostname(), started: "then" }));
    // and the temporary file a process killed while creating the lock left beside it
    writeFileSync(`${lockPath(target)}.tmp-${DEAD_PID}-0badf00d`, "{");
    expect(removeStaleLock(target)).toBe(true);
    expect(readdirSync(join(dir, ".locks"))).toEqual([]);
    const live = acquireLock(target);
    expect(removeStaleLock(target)).toBe(false);
    expect(existsSync(lockPath(target))).toBe(true);
    if ("release" in live) live.release();
  });

  it("a lock of a live process on another host is never taken over", () => {
    const dir = mkdtempSync(join(tmpdir(), "lock-"));
    const path = join(dir, "x.lock");
    writeFileSync(path, JSON.stringify({ pid: DEAD_PID, host: `${hostname()}-elsewhere`, started: "then" }));
    expect(acquireLockFile(path)).toEqual({
      heldBy: `pid ${DEAD_PID} on ${hostname()}-elsewhere since then`,
    });
  });

  it("(needs dist/ built) processes that find one stale lock at once: exactly one takes it", async () => {
    // Before the takeover was race-free, two processes could both decide the lock was stale: the
    // second removed the lock the first had just taken, and both held it.
    const rounds = 6;
    const takers = 3;
    for (let round = 0; round < rounds; round++) {
      const dir = mkdtempSync(join(tmpdir(), "lock-race-"));
      const path = join(dir, ".locks", "run.lock");
      mkdirSync(join(dir, ".locks"));
      writeFileSync(path, JSON.stringify({ pid: DEAD_PID, host: hostname(), started: "then" }));
      const children = Array.from({ length: takers }, () =>
        spawn(process.execPath, ["--input-type=module", "-e", CHILD, LOCK_MODULE, dir, path], {
          stdio: ["ignore", "inherit", "inherit"],
        }),
      );
      const codes = children.map(exited);
      await waitFor(
        () => readdirSync(dir).filter((f) => f.startsWith("ready-")).length === takers,
        30_000,
        "the takers to start",
      );
      writeFileSync(join(dir, "go"), "");
      expect(await Promise.all(codes)).toEqual(Array(takers).fill(0));
      const holders = readFileSync(join(dir, "holders"), "utf8").trim().split("\n");
      expect(holders, `round ${round}: more than one process took the stale lock`).toHaveLength(1);
      expect(readdirSync(join(dir, ".locks"))).toEqual([]);
    }
  }, 120_000);
});
