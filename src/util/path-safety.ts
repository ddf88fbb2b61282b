import { lstatSync, realpathSync, renameSync, rmSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { ConfigError, CurriculaError } from "./errors.js";

/**
 * Ids that become file or folder names (experiment ids, score ids and types, run name fields, fusion
 * ids) and deletions inside the results folder. An id is one path segment: it never climbs out of
 * the folder it is joined to, and nothing curricula deletes or moves aside is reached through a
 * symbolic link that leads out of the results folder.
 */

/** Why `id` cannot be one file or folder name, or undefined when it can. */
export function pathIdProblem(id: string): string | undefined {
  if (id.length === 0) return "must not be empty";
  if (id.includes("/") || id.includes("\\")) return "must not contain '/' or '\\'";
  if (id.includes("..")) return "must not contain '..'";
  if (id.startsWith(".")) return "must not start with '.'";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected
  if (/[\u0000-\u001f\u007f]/.test(id)) return "must not contain control characters";
  return undefined;
}

/**
 * Checks an id that becomes a file or folder name (one path segment); a ConfigError names the key,
 * the value and the rule otherwise. Returns the id.
 */
export function checkPathId(key: string, id: unknown, file?: string): string {
  const text = String(id);
  const problem = pathIdProblem(text);
  if (problem) {
    throw new ConfigError(key, `${JSON.stringify(text)} ${problem} (it becomes a file or folder name)`, file);
  }
  return text;
}

function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** `realpath` of the longest existing prefix of `path`, with the missing rest appended. */
function realpathOfExisting(path: string): string {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      return resolve(realpathSync(current), ...missing.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return resolve(path);
      missing.push(current.slice(parent.length).replace(/^[/\\]/, ""));
      current = parent;
    }
  }
}

/**
 * Throws unless `path` (which `action` would delete or move) lies inside `root` once every symbolic
 * link on the way is followed: a link among its parent folders, or the path itself being a link to
 * somewhere outside `root`, is refused instead of followed.
 */
export function assertInsideResults(root: string, path: string, action: string): void {
  const realRoot = realpathOfExisting(root);
  const realParent = realpathOfExisting(dirname(resolve(path)));
  const refuse = (where: string) =>
    new CurriculaError(
      `refusing to ${action} ${path}: it leads out of the results folder ${resolve(root)} through a ` +
        `symbolic link (to ${where}); remove the link by hand if that is intended`,
    );
  if (!isWithin(realRoot, realParent)) throw refuse(realParent);
  const stat = lstatOrNull(path);
  if (stat?.isSymbolicLink()) {
    const target = realpathOfExisting(path);
    if (!isWithin(realRoot, target)) throw refuse(target);
  }
}

/** `rm -rf path`, refused when the path leads out of `root` through a symbolic link. */
export function removeInsideResults(root: string, path: string, options: { recursive?: boolean } = {}): void {
  if (!lstatOrNull(path)) return;
  assertInsideResults(root, path, "delete");
  rmSync(path, { recursive: options.recursive ?? true, force: true });
}

/** Renames `from` to `to`, refused when either leads out of `root` through a symbolic link. */
export function moveInsideResults(root: string, from: string, to: string): void {
  assertInsideResults(root, from, "move");
  assertInsideResults(root, to, "move a file to");
  renameSync(from, to);
}
