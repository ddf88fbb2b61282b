import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DataError } from "../util/errors.js";

/**
 * The decoded-feature caches of the folder datasets (AudioFolder, ImageFolder): a folder written
 * atomically whose `cache_key.json`, written last, records every parameter it was made with.
 */

const KEY_FILE = "cache_key.json";

/** True when `cacheDir` holds a finished cache made with exactly `key`. */
export function cacheMatches(cacheDir: string, key: Record<string, unknown>): boolean {
  const keyFile = join(cacheDir, KEY_FILE);
  if (!existsSync(keyFile)) return false;
  try {
    return JSON.stringify(JSON.parse(readFileSync(keyFile, "utf8"))) === JSON.stringify(key);
  } catch {
    return false;
  }
}

/** Writes the cache's key into the temporary folder being filled (the last file of a cache). */
export function writeCacheKey(tmpDir: string, key: Record<string, unknown>): Promise<void> {
  return writeFile(join(tmpDir, KEY_FILE), `${JSON.stringify(key, null, 2)}\n`);
}

/**
 * Builds the cache unless it matches its key; another process that built the same cache at the
 * same moment makes a failed build harmless.
 */
export async function ensureCache(
  cacheDir: string,
  key: Record<string, unknown>,
  build: () => Promise<void>,
): Promise<void> {
  if (cacheMatches(cacheDir, key)) return;
  try {
    await build();
  } catch (error) {
    if (!cacheMatches(cacheDir, key)) throw error;
  }
}

/**
 * A feature cache that cannot be written (a read-only data folder) is an error saying where and
 * how to fix it: `dataset.cache_dir` moves the cache to a writable folder.
 */
export function cacheWriteError(error: unknown, cacheDir: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== "EACCES" && code !== "EPERM" && code !== "EROFS") return error;
  return new DataError(
    `cannot write the feature cache ${cacheDir} (${code}): the data folder is not writable; ` +
      "set dataset.cache_dir to a writable folder (e.g. dataset.cache_dir=cache/my-audio)",
  );
}

/** A build's problems as lines of a message: the first 20, indented, then how many more there are. */
export function problemLines(problems: readonly string[]): string[] {
  const lines = problems.slice(0, 20).map((p) => `  ${p}`);
  if (problems.length > 20) lines.push(`  ... and ${problems.length - 20} more`);
  return lines;
}
