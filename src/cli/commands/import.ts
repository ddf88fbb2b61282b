import { relative } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { IMPORT_FORMATS, type ImportFormat } from "../../config/schema.js";
import { importRun, writeSplit } from "../../experiments/import-run.js";
import { UsageError } from "../../util/errors.js";
import { out, say } from "../shared.js";

interface ImportFlags {
  format?: string;
  dataset: string;
  runName?: string;
  writeSplit?: boolean;
  configName: string;
  configPath?: string;
}

function importFormat(text: string): ImportFormat {
  if (!(IMPORT_FORMATS as readonly string[]).includes(text)) {
    throw new InvalidArgumentError(`--format expects one of ${IMPORT_FORMATS.join(", ")}, got '${text}'.`);
  }
  return text as ImportFormat;
}

/** `curricula import <path> --format npy|cartography|csv --dataset <id> [--run-name NAME] [overrides...]`. */
export function register(program: Command): void {
  program
    .command("import")
    .description(
      "import a run recorded by any training loop (per-epoch logits) as a run folder under training/ that the output-based scores read",
    )
    .argument(
      "<path>",
      "the recording: a folder (npy, cartography) or a CSV file; with --write-split, the folder to write the split to",
    )
    .argument(
      "[overrides...]",
      "key=value overrides of the run's config: results_dir, experiment_id, seed, …",
    )
    .option("--format <format>", `the recording's format: ${IMPORT_FORMATS.join(", ")}`, importFormat)
    .requiredOption("--dataset <id>", "the dataset the run was trained on (dataset/<id>.yaml)")
    .option("--run-name <name>", "folder name under training/ (default: the run name of the config)")
    .option(
      "--write-split",
      "write the dataset's split (<path>/<subset>/ids.npy and targets.npy) and import nothing",
    )
    .option("--config-name <name>", "entry config (also -cn)", "config")
    .option("--config-path <dir>", "local config folder (also -cp; default conf)")
    .addHelpText(
      "after",
      "\nExamples:\n  curricula import split --dataset Digits --write-split\n" +
        "  curricula import runs/seed1 --format npy --dataset Digits seed=1\n" +
        "  curricula import out/training_dynamics --format cartography --dataset Digits --run-name cartography-run\n" +
        "  curricula import dynamics.csv --format csv --dataset Digits experiment_id=imported seed=2",
    )
    .action(async (path: string, overrides: string[], flags: ImportFlags) => {
      const common = {
        path,
        dataset: flags.dataset,
        overrides,
        configName: flags.configName,
        configPath: flags.configPath,
      };
      if (flags.writeSplit) {
        const files = await writeSplit(common);
        say(`wrote the ${flags.dataset} split: ${files.length / 2} subset(s)`);
        for (const file of files) out(relative(process.cwd(), file) || file);
        return;
      }
      if (!flags.format) throw new UsageError(`--format is required (${IMPORT_FORMATS.join(", ")})`);
      const result = await importRun({
        ...common,
        format: flags.format as ImportFormat,
        runName: flags.runName,
        log: say,
      });
      out(relative(process.cwd(), result.runDir) || result.runDir);
    });
}
