import { randomBytes } from "node:crypto";
import { linkSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { processAlive, temporaryWriterPid } from "./atomic.js";
import { ensureDir } from "./dirs.js";

/**
 * Advisory locks between processes: one file per locked thing, `<folder>/.locks/<name>.lock` beside
 * it, holding who took it. A training run folder, a score id and a CVLoss fold are locked this way
 * (run-spec and the score manager), so two commands never write one folder at once.
 */

/** What a lock file holds. `token` is unique to one taking of the lock (never reused). */
interface LockInfo {
  pid: number;
  host: string;
  started: string;
  token?: string;
}

/** A lock taken by this process. */
export interface HeldLock {
  release(): void;
}

/** The lock was not taken: `heldBy` says who holds it ("pid 123 on host since …"). */
export interface BusyLock {
  heldBy: string;
}

/** `<folder of target>/.locks/<name of target>.lock`: beside the locked thing, never inside it. */
export function lockPath(target: string): string {
  return join(dirname(target), ".locks", `${basename(target)}.lock`);
}

/** Locks held by this process, released on exit signals (see releaseHeldLocks). */
const heldLocks = new Set<string>();

/** Releases every lock this process holds (workers call it when they are told to stop). */
export function releaseHeldLocks(): void {
  for (const path of heldLocks) rmSync(path, { force: true });
  heldLocks.clear();
}

/**
 * Creates `path` holding `info`, complete or not at all: the content goes to a unique temporary
 * file first, which is then hard-linked to `path` (link fails when `path` exists, like O_EXCL).
 * A reader never sees a half-written lock. Returns false when `path` exists.
 */
function createComplete(path: string, info: LockInfo): boolean {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  writeFileSync(tmp, JSON.stringify(info));
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Removes the temporary files of `path` (createComplete) whose process is gone (it was killed meanwhile). */
function removeDeadTemporaries(path: string): void {
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(`${basename(path)}.tmp-`)) continue;
    const pid = temporaryWriterPid(name);
    if (pid !== null && !processAlive(pid)) rmSync(join(dirname(path), name), { force: true });
  }
}

/** The lock file's content: parsed, the raw text (unparsable), or null when there is none. */
function readLock(path: string): { info: LockInfo | null; raw: string } | null {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  try {
    const info = JSON.parse(raw) as LockInfo;
    return { info: typeof info?.pid === "number" ? info : null, raw };
  } catch {
    return { info: null, raw };
  }
}

function describe(info: LockInfo): string {
  return `pid ${info.pid} on ${info.host} since ${info.started}`;
}

/** The identity of one taking of a lock: its token, or (locks of earlier versions) its whole text. */
function identity(lock: { info: LockInfo | null; raw: string }): string {
  return lock.info?.token ?? `raw-${Buffer.from(lock.raw).toString("hex").slice(0, 64)}`;
}

/**
 * Takes the lock file `path`. A lock left by a dead process on this host is stale and taken over;
 * a live holder (or one on another host) makes this return its description instead.
 *
 * The takeover is race-free: two processes that both find a lock stale must not both remove it
 * (the second would remove the lock the first has just taken). Removing the stale lock with token
 * T therefore needs the lock `<path>.takeover-<T>` first, taken by this same function; only its
 * holder removes `path`, and only while `path` still holds T. Tokens are never reused, so a
 * process that decided late that T is stale finds another token in `path` and backs off. A taker
 * that died leaves a stale takeover lock, taken over the same way.
 */
export function acquireLockFile(path: string): HeldLock | BusyLock {
  ensureDir(dirname(path));
  removeDeadTemporaries(path);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    token: `${process.pid}-${randomBytes(8).toString("hex")}`,
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createComplete(path, info)) {
      heldLocks.add(path);
      return {
        release: () => {
          heldLocks.delete(path);
          // Only our own lock is removed (a stale-lock takeover never takes a live one).
          const now = readLock(path);
          if (now && identity(now) === info.token) rmSync(path, { force: true });
        },
      };
    }
    const holder = readLock(path);
    if (!holder) continue; // released meanwhile: try again
    const busy = removeIfStale(path, holder);
    if (busy) return busy;
  }
  return { heldBy: `another process (the lock ${path} could not be taken)` };
}

/** Whether a lock's holder is gone: a dead process on this host, or an unreadable file. */
function isStale(lock: { info: LockInfo | null }): boolean {
  return !lock.info || (lock.info.host === hostname() && !processAlive(lock.info.pid));
}

/**
 * Removes the lock file `path` (as read: `holder`) if it is stale, race-free (see acquireLockFile);
 * returns who holds it when it is not stale or another process is taking it over.
 */
function removeIfStale(path: string, holder: { info: LockInfo | null; raw: string }): BusyLock | null {
  if (!isStale(holder)) return { heldBy: describe(holder.info as LockInfo) };
  const stale = identity(holder);
  const takeover = acquireLockFile(`${path}.takeover-${stale.replace(/[^A-Za-z0-9-]/g, "")}`);
  if ("heldBy" in takeover) return { heldBy: `a process taking over a stale lock (${takeover.heldBy})` };
  try {
    const again = readLock(path);
    if (again && identity(again) === stale) rmSync(path, { force: true });
  } finally {
    takeover.release();
  }
  return null;
}

/**
 * Removes the lock of `target` when its holder is gone (a killed process leaves its lock behind);
 * a live holder's lock is kept. Nothing is locked meanwhile. Returns whether a lock was removed.
 */
export function removeStaleLock(target: string): boolean {
  const path = lockPath(target);
  removeDeadTemporaries(path);
  const holder = readLock(path);
  if (!holder || !isStale(holder)) return false;
  return removeIfStale(path, holder) === null;
}

/** Takes the lock of a folder or file (`lockPath(target)`); see {@link acquireLockFile}. */
export function acquireLock(target: string): HeldLock | BusyLock {
  return acquireLockFile(lockPath(target));
}
