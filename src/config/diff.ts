/**
 * Lists the differences between two plain configuration objects as dotted keys, e.g.
 * `optimizer.learning_rate: 0.001 (saved) vs 0.01 (requested)`. Used to refuse reusing a result made
 * from a different config.
 */
export function diffConfigs(
  saved: unknown,
  requested: unknown,
  labels: [string, string] = ["saved", "requested"],
  prefix = "",
): string[] {
  if (isPlainObject(saved) && isPlainObject(requested)) {
    const keys = [...new Set([...Object.keys(saved), ...Object.keys(requested)])].sort();
    return keys.flatMap((key) =>
      diffConfigs(saved[key], requested[key], labels, prefix ? `${prefix}.${key}` : key),
    );
  }
  if (Array.isArray(saved) && Array.isArray(requested) && saved.length === requested.length) {
    return saved.flatMap((value, i) => diffConfigs(value, requested[i], labels, `${prefix}[${i}]`));
  }
  if (JSON.stringify(saved) === JSON.stringify(requested)) return [];
  const show = (v: unknown) => (v === undefined ? "<missing>" : JSON.stringify(v));
  return [`${prefix || "<root>"}: ${show(saved)} (${labels[0]}) vs ${show(requested)} (${labels[1]})`];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
