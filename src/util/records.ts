/** Plain-object helpers for parsed YAML and JSON (configs, cards, saved states). */

/** True for a plain mapping: an object that is neither null nor an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Follows a dotted path (`curriculum.scoring.id`) through nested mappings: `found` is false when a
 * step is missing or not a mapping; a key present with the value undefined is found.
 */
export function lookupPath(root: unknown, path: string): { found: boolean; value: unknown } {
  let node = root;
  for (const part of path.split(".")) {
    if (!isRecord(node) || !(part in node)) return { found: false, value: undefined };
    node = node[part];
  }
  return { found: true, value: node };
}

/** The value at a dotted path through nested mappings, or undefined when there is none. */
export function getPath(root: unknown, path: string): unknown {
  return lookupPath(root, path).value;
}
