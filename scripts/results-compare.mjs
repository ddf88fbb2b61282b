// Compares two results trees file by file, ignoring what records time: timer.yaml, timing.csv,
// trainer_state.json's timers and timings, score cards' time_seconds/created, study state, config.csv's time
// columns and the report. Used by scripts/compare-results.mjs and the kill tests.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** Files that record time only (left out of the comparison). */
export const TIMING_FILES =
  /(^|\/)(timer\.yaml|timing\.csv|state\.yaml|report\.html|hardware\.yaml|training\.log)$/;

/** Every file under `dir`, relative to `root`. */
export function listFiles(dir, root = dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path, root) : [relative(root, path)];
  });
}

/** A file's text with its timing fields removed (`rel`: its path in the results tree). */
export function normalise(rel, text) {
  if (rel.endsWith("trainer_state.json")) {
    const state = JSON.parse(text);
    delete state.timers;
    delete state.timings;
    return JSON.stringify(state);
  }
  if (rel.endsWith(".yaml")) return text.replace(/^(time_seconds|created):.*$/gm, "");
  if (rel.endsWith("config.csv")) {
    // drop the trailing mean phase times (time_* columns come last and are plain numbers)
    const lines = text.split("\n");
    const trailing = ((lines[0] ?? "").match(/(,time_[^,]*)+$/)?.[0].split(",").length ?? 1) - 1;
    const cut = new RegExp(`(,[^,]*){${trailing}}$`);
    return lines.map((l) => l.replace(cut, "")).join("\n");
  }
  return text;
}

/**
 * Compares the results trees `a` and `b`: `same` files identical (up to timing fields), and one
 * line per difference (`only in <tree>: <file>`, `differs: <file>`).
 */
export function compareResults(a, b) {
  const left = new Set(listFiles(a));
  const right = new Set(listFiles(b));
  const differences = [];
  let same = 0;
  for (const rel of [...new Set([...left, ...right])].sort()) {
    if (TIMING_FILES.test(rel)) continue;
    if (!left.has(rel) || !right.has(rel)) {
      differences.push(`only in ${left.has(rel) ? a : b}: ${rel}`);
      continue;
    }
    const x = readFileSync(join(a, rel));
    const y = readFileSync(join(b, rel));
    if (x.equals(y) || normalise(rel, x.toString("utf8")) === normalise(rel, y.toString("utf8"))) same++;
    else differences.push(`differs: ${rel}`);
  }
  return { same, differences };
}
