import { dirname } from "node:path";
import { type Command, Option } from "commander";
import { type PacePreviewOptions, previewPace } from "../../curriculum/pace-preview.js";
import { UsageError } from "../../util/errors.js";

/** The options commander parses for `curricula pace`. */
export interface PaceCommandOptions extends Omit<PacePreviewOptions, "args"> {
  json?: boolean;
  /** `key=value` pairs of --arg. */
  arg?: string[];
}

function parseNumber(flag: string, integer: boolean) {
  return (text: string): number => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new UsageError(`${flag}: expected ${integer ? "an integer" : "a number"}, got "${text}"`);
    }
    return value;
  };
}

function collectArg(text: string, previous: string[] = []): string[] {
  if (!/^[A-Za-z_][\w]*=.+$/.test(text)) throw new UsageError(`--arg: expected key=value, got "${text}"`);
  return [...previous, text];
}

/** Runs `curricula pace`: prints the dataset size at every iteration 0..T, as a table or a JSON array. */
export async function runPace(
  name: string,
  options: PaceCommandOptions,
  out: (text: string) => void = (t) => process.stdout.write(t),
  cwd: string = process.cwd(),
): Promise<number[]> {
  const { arg, json: _json, ...preview } = options;
  const args = Object.fromEntries(
    (arg ?? []).map((pair) => {
      const at = pair.indexOf("=");
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  const { sizes, plot } = await previewPace(name, { ...preview, args }, cwd);
  if (options.json) {
    out(`${JSON.stringify(sizes)}\n`);
  } else {
    const width = Math.max("iteration".length, String(options.iterations).length);
    out(`${"iteration".padStart(width)}  dataset_size\n`);
    sizes.forEach((size, i) => {
      out(`${String(i).padStart(width)}  ${size}\n`);
    });
  }
  if (plot) process.stderr.write(`wrote ${plot.svg} and ${plot.png} (folder ${dirname(plot.svg)})\n`);
  return sizes;
}

export function register(program: Command): void {
  program
    .command("pace")
    .description(
      "preview a pacing function: the training subset size at every iteration 0..T (--json, --plot)",
    )
    .argument("<pacing>", "pacing config name (curriculum/pacing/<name>.yaml) or built-in type")
    .addOption(
      new Option("--initial-size <s>", "fraction of the training set at iteration 0, in (0, 1]")
        .argParser(parseNumber("--initial-size", false))
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        "--final-iteration <f>",
        "fraction of the iterations at which the full set is reached, in [0, 1]",
      )
        .argParser(parseNumber("--final-iteration", false))
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--iterations <T>", "total training iterations (epochs or steps)")
        .argParser(parseNumber("--iterations", true))
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--dataset-size <N>", "number of training samples")
        .argParser(parseNumber("--dataset-size", true))
        .makeOptionMandatory(),
    )
    .option("--arg <key=value>", "extra pacing argument, e.g. --arg degree=3 (repeatable)", collectArg)
    .option("--config-path <dir>", "local config folder searched before the packaged configs (default: conf)")
    .option("--json", "print a JSON array of T+1 sizes")
    .option("--plot <file>", "also write a step plot to <file>.svg and <file>.png")
    .action(async (name: string, options: PaceCommandOptions) => {
      await runPace(name, options);
    });
}
