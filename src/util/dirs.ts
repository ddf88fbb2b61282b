import { randomBytes } from "node:crypto";
import { accessSync, constants, mkdirSync, rmdirSync, statSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { CurriculaError } from "./errors.js";

/**
 * Creating folders. Node's `mkdir(path, { recursive: true })` loops forever on some unwritable
 * locations (a path below `/proc` retries `mkdir` at full CPU), so every folder curricula creates
 * goes through here instead: the missing levels are created one at a time, and any failure is an
 * immediate error naming the folder, the level that failed and why.
 */

/** An error for a folder that cannot be created, naming it and the reason. */
export class UnwritableLocationError extends CurriculaError {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, at: string, cause: unknown) {
    const err = cause as NodeJS.ErrnoException;
    const reason = typeof cause === "string" ? cause : describeFsError(err);
    const where = at === path ? "" : ` (at ${at})`;
    super(`cannot create folder ${path}${where}: ${reason}; choose a writable location`);
    this.name = "UnwritableLocationError";
    this.path = path;
    this.code = typeof cause === "string" ? undefined : err.code;
  }
}

/** `EACCES: permission denied` from a Node file-system error (without the repeated path). */
export function describeFsError(error: NodeJS.ErrnoException): string {
  const first = (error.message ?? String(error)).split(",")[0] ?? "";
  return error.code && !first.startsWith(error.code) ? `${error.code}: ${first}` : first;
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** The missing levels of `path`, outermost first; throws when an existing level is not a folder. */
function missingLevels(path: string, isDir: (p: string) => boolean | null): string[] {
  const missing: string[] = [];
  let dir = path;
  for (;;) {
    const state = isDir(dir);
    if (state === true) break;
    if (state === false) throw new UnwritableLocationError(path, dir, "it exists and is not a folder");
    missing.push(dir);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return missing.reverse();
}

/** Creates a folder and its missing parents (synchronously); a no-op when it exists. */
export function ensureDir(path: string): void {
  const target = resolve(path);
  const levels = missingLevels(target, (p) => {
    try {
      return statSync(p).isDirectory();
    } catch (error) {
      if (code(error) === "ENOENT" || code(error) === "ENOTDIR") return null;
      throw new UnwritableLocationError(target, p, error);
    }
  });
  for (const level of levels) {
    try {
      mkdirSync(level);
    } catch (error) {
      if (code(error) === "EEXIST" && statSync(level).isDirectory()) continue;
      throw new UnwritableLocationError(target, level, error);
    }
  }
}

/** Async variant of {@link ensureDir}. */
export async function ensureDirAsync(path: string): Promise<void> {
  const target = resolve(path);
  const states = new Map<string, boolean | null>();
  // Walk up asynchronously first, then reuse the answers in the shared helper.
  let dir = target;
  for (;;) {
    let state: boolean | null;
    try {
      state = (await stat(dir)).isDirectory();
    } catch (error) {
      if (code(error) !== "ENOENT" && code(error) !== "ENOTDIR")
        throw new UnwritableLocationError(target, dir, error);
      state = null;
    }
    states.set(dir, state);
    const parent = dirname(dir);
    if (state !== null || parent === dir) break;
    dir = parent;
  }
  const levels = missingLevels(target, (p) => states.get(p) ?? null);
  for (const level of levels) {
    try {
      await mkdir(level);
    } catch (error) {
      if (code(error) === "EEXIST" && (await stat(level)).isDirectory()) continue;
      throw new UnwritableLocationError(target, level, error);
    }
  }
}

/**
 * Checks, without leaving anything behind, that `path` could be created or written: its nearest
 * existing level must be a folder this process can create folders in (checked before any run
 * starts, and by `--dry-run`).
 */
export function checkWritable(path: string): void {
  const target = resolve(path);
  let dir = target;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(dir).isDirectory();
    } catch (error) {
      if (code(error) !== "ENOENT" && code(error) !== "ENOTDIR")
        throw new UnwritableLocationError(target, dir, error);
      const parent = dirname(dir);
      if (parent === dir) throw new UnwritableLocationError(target, dir, "no existing parent folder");
      dir = parent;
      continue;
    }
    if (!isDir) throw new UnwritableLocationError(target, dir, "it exists and is not a folder");
    try {
      accessSync(dir, constants.W_OK);
      // Some locations pass the permission check and still refuse folders (below /proc): a probe
      // folder, removed at once, settles it without leaving anything behind.
      const probe = join(dir, `.curricula-probe-${process.pid}-${randomBytes(4).toString("hex")}`);
      mkdirSync(probe);
      rmdirSync(probe);
    } catch (error) {
      throw new UnwritableLocationError(target, dir, error);
    }
    return;
  }
}
