import { existsSync, readFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import { writeFileAtomicSync } from "./atomic.js";
import { DataError } from "./errors.js";

/** Reads a YAML file; a parse error names the file and line. */
export function readYaml<T = unknown>(path: string): T {
  if (!existsSync(path)) throw new DataError(`${path}: file not found`);
  try {
    return parse(readFileSync(path, "utf8")) as T;
  } catch (error) {
    throw new DataError(`${path}: invalid YAML: ${(error as Error).message}`);
  }
}

/** Writes a value as YAML, atomically. Key order is kept as given. */
export function writeYaml(path: string, value: unknown): void {
  writeFileAtomicSync(path, stringify(value, { lineWidth: 0 }));
}
