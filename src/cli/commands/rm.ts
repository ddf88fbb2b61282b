import { relative } from "node:path";
import type { Command } from "commander";
import { findFailedRuns, findStateFiles, removeRuns, rmStates } from "../../experiments/cleanup.js";
import { collectInts, confirm, say } from "../shared.js";

/** `curricula rm-failed` and `curricula rm-states`. */
export function register(program: Command): void {
  program
    .command("rm-failed")
    .description("delete unfinished training runs (no metrics.csv); runs being trained are kept")
    .argument("<results_dir>", "results folder")
    .argument("<experiment_id>", "experiment id")
    .option("-f, --force", "do not ask for confirmation")
    .action(async (resultsDir: string, experimentId: string, options: { force?: boolean }) => {
      const { failed, busy } = findFailedRuns(resultsDir, experimentId);
      for (const name of busy) say(`keeping ${name} (being trained by another process)`);
      if (failed.length === 0) {
        say("No failed runs.");
        return;
      }
      for (const name of failed) say(` - ${name}`);
      if (!options.force && !(await confirm(`Delete ${failed.length} unfinished run folder(s)?`))) {
        say("Nothing deleted.");
        return;
      }
      const removed = removeRuns(resultsDir, experimentId, failed);
      say(`Deleted ${removed.length} run folder(s).`);
    });

  program
    .command("rm-states")
    .description("delete model states of finished runs to save space (_best is kept unless --delete-best)")
    .argument("<results_dir>", "results folder")
    .argument("<experiment_id>", "experiment id")
    .option("-b, --delete-best", "also delete the _best states (scoring needs them for stop: best)")
    .option("-r, --keep-runs <runs...>", "run names whose states are kept")
    .option(
      "-i, --keep-iterations <n...>",
      "iterations whose states are kept",
      collectInts("--keep-iterations"),
    )
    .option("-f, --force", "do not ask for confirmation")
    .action(
      async (
        resultsDir: string,
        experimentId: string,
        options: { deleteBest?: boolean; keepRuns?: string[]; keepIterations?: number[]; force?: boolean },
      ) => {
        const selection = {
          deleteBest: options.deleteBest,
          keepRuns: options.keepRuns,
          keepIterations: options.keepIterations,
        };
        const files = findStateFiles(resultsDir, experimentId, selection);
        if (files.length === 0) {
          say("No model states to delete.");
          return;
        }
        const folders = new Set(files.map((f) => relative(process.cwd(), f).replace(/\/[^/]+$/, "")));
        say(`${files.length} state file(s) in ${folders.size} folder(s).`);
        if (!options.force && !(await confirm(`Delete ${files.length} state file(s)?`))) {
          say("Nothing deleted.");
          return;
        }
        const removed = rmStates(resultsDir, experimentId, selection);
        say(`Deleted ${removed.length} state file(s).`);
      },
    );
}
