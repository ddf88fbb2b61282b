#!/usr/bin/env node
// Compares two results trees file by file and lists what differs, ignoring what records time:
// timer.yaml, timing.csv (train_seconds per evaluation), trainer_state.json's timers and timings,
// score cards' time_seconds/created, study state,
// config.csv's time columns and the report (see results-compare.mjs). Exit code 1 when a result differs.
//
//   node scripts/compare-results.mjs results-before/study results-after/study
import { compareResults } from "./results-compare.mjs";

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error("usage: node scripts/compare-results.mjs <results A> <results B>");
  process.exit(2);
}

const { same, differences } = compareResults(a, b);
for (const line of differences) console.log(line);
console.log(`${same} files identical, ${differences.length} differ (timing files ignored)`);
process.exit(differences.length > 0 ? 1 : 0);
