import { existsSync } from "node:fs";

/**
 * True when a test must be skipped because `path` (from the Debian package `pkg`) is missing on a
 * developer's machine. Under CI nothing is skipped: CI installs the package, and a test whose file
 * is still missing runs and fails, naming the package.
 */
export function skipWithout(path: string, pkg: string): boolean {
  if (existsSync(path)) return false;
  if (process.env.CI) return false;
  console.warn(`skipped: ${path} not found (apt-get install ${pkg}); CI installs it and runs the test`);
  return true;
}

/** Fails with the package to install when `path` is missing (the first line of such a test). */
export function requireFile(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`${path} not found: install the Debian package ${pkg}`);
}
