#!/usr/bin/env node
// Compares two results trees file by file and lists what differs, ignoring what records time:
// timer.yaml, timing.csv (train_seconds per evaluation), trainer_state.json's timers and timings, score cards' time_seconds/created, study state,
// config.csv's time columns and the report. Exit code 1 when a result differs.
//
//   node scripts/compare-results.mjs results-before/study results-after/study
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error("usage: node scripts/compare-results.mjs <results A> <results B>");
  process.exit(2);
}

function files(dir, root = dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, root) : [relative(root, path)];
  });
}

const TIMING_FILES = /(^|\/)(timer\.yaml|timing\.csv|state\.yaml|report\.html|hardware\.yaml|training\.log)$/;

function normalise(rel, text) {
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

const left = new Set(files(a));
const right = new Set(files(b));
let differ = 0;
let same = 0;
for (const rel of [...new Set([...left, ...right])].sort()) {
  if (TIMING_FILES.test(rel)) continue;
  if (!left.has(rel) || !right.has(rel)) {
    console.log(`only in ${left.has(rel) ? a : b}: ${rel}`);
    differ++;
    continue;
  }
  const x = readFileSync(join(a, rel));
  const y = readFileSync(join(b, rel));
  const equal = x.equals(y) || normalise(rel, x.toString("utf8")) === normalise(rel, y.toString("utf8"));
  if (equal) same++;
  else {
    console.log(`differs: ${rel}`);
    differ++;
  }
}
console.log(`${same} files identical, ${differ} differ (timing files ignored)`);
process.exit(differ > 0 ? 1 : 0);
