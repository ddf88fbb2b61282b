import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

/**
 * Fingerprints of files: what a result was made from, so a later change of an input is seen
 * (a score whose training runs were retrained, a curriculum run whose score file was replaced).
 */

/** SHA-256 of a string's UTF-8 bytes, hex (cache keys, short ids). */
export function textSha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** SHA-256 of a file's bytes, hex. */
export function fileSha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * The fingerprints of the files that exist among `paths`, keyed by `label(path)` (e.g. a path
 * relative to the results folder), in the given order; missing files are left out.
 */
export function fingerprintFiles(
  paths: readonly string[],
  label: (path: string) => string = (p) => p,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const path of paths) if (existsSync(path)) out[label(path)] = fileSha256(path);
  return out;
}
