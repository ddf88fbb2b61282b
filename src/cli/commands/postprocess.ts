import { relative } from "node:path";
import type { Command } from "commander";
import { AGGREGATION_KEYS } from "../../config/naming.js";
import { postprocess } from "../../experiments/postprocess.js";
import { collectAggregate, positiveInt, say } from "../shared.js";

/** `curricula postprocess <results_dir> <experiment_id> [-a KEY...]... [-m N] [-d SCORE...] [--reference R]`. */
export function register(program: Command): void {
  program
    .command("postprocess")
    .description("summarise an experiment (summary/) and aggregate runs over naming keys (agg_<keys>/)")
    .argument("<results_dir>", "results folder (e.g. results)")
    .argument("<experiment_id>", "experiment id (e.g. default)")
    .option(
      "-a, --aggregate <keys...>",
      `aggregate over these naming keys; repeat for several aggregations (${AGGREGATION_KEYS.join(", ")})`,
      collectAggregate,
    )
    .option("-m, --max-runs <n>", "plot only the best N runs", positiveInt("--max-runs"))
    .option(
      "-d, --difficulty <score ids...>",
      "metrics on the hardest 10/25/50/100% of the subset each score ranks (summary/difficulty.csv)",
    )
    .option(
      "--reference <condition>",
      "the reference condition of summary/comparison.csv and compute.csv, by label or name (default: the baseline)",
    )
    .addHelpText(
      "after",
      "\nExample:\n  curricula postprocess results default -a seed -a curriculum.pacing.initial_size seed",
    )
    .action(
      async (
        resultsDir: string,
        experimentId: string,
        options: { aggregate?: string[][]; maxRuns?: number; difficulty?: string[]; reference?: string },
      ) => {
        const result = await postprocess(resultsDir, experimentId, {
          aggregate: options.aggregate,
          maxRuns: options.maxRuns,
          difficulty: options.difficulty,
          ...(options.reference !== undefined ? { compare: { reference: options.reference } } : {}),
        });
        for (const agg of result.aggregations) {
          for (const [name, members] of Object.entries(agg.runs)) {
            say(`  ${relative(process.cwd(), agg.dir)}/${name} (${members.length} run(s))`);
          }
        }
      },
    );
}
