import { dirname } from "node:path";
import { type Command, Option } from "commander";
import { findConfigFile, loadGroupConfig } from "../../config/compose.js";
import { configSearchPath } from "../../config/package.js";
import type { PacingConfig } from "../../config/schema.js";
import { paceSpec } from "../../curriculum/pace-plot.js";
import { PACING_TYPES, pacingClass, resolvePacing } from "../../curriculum/pacing/registry.js";
import { renderPlot } from "../../plots/render.js";
import { UsageError } from "../../util/errors.js";

export interface PaceCommandOptions {
  initialSize: number;
  finalIteration: number;
  iterations: number;
  datasetSize: number;
  json?: boolean;
  plot?: string;
  arg?: string[];
  configPath?: string;
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

/**
 * The pacing config `curricula pace <name>` previews: the config `curriculum/pacing/<name>.yaml`
 * (local conf/ first, so custom pacings work), or a built-in type of that name.
 */
export function paceConfigFor(
  name: string,
  options: PaceCommandOptions,
  cwd: string = process.cwd(),
): PacingConfig {
  const searchPath = configSearchPath(options.configPath, cwd);
  let base: Record<string, unknown>;
  if (findConfigFile(searchPath, "curriculum/pacing", name)) {
    base = loadGroupConfig("curriculum/pacing", name, options.configPath, cwd);
  } else if (pacingClass(name)) {
    base = { id: name, type: name };
  } else {
    throw new UsageError(
      `unknown pacing "${name}": no config curriculum/pacing/${name}.yaml and no built-in type of that name (built in: ${PACING_TYPES.join(", ")})`,
    );
  }
  if (base.id === "None" || base.type === "None") {
    throw new UsageError(`pacing "${name}" is the no-curriculum placeholder; choose a pacing function`);
  }
  const config: Record<string, unknown> = {
    ...base,
    initial_size: options.initialSize,
    final_iteration: options.finalIteration,
  };
  for (const pair of options.arg ?? []) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at);
    const text = pair.slice(at + 1);
    const value = Number(text);
    config[key] = text.trim() !== "" && Number.isFinite(value) ? value : text;
  }
  return config as PacingConfig;
}

/** Runs `curricula pace`: the dataset size at every iteration 0..T, as a table or a JSON array. */
export async function runPace(
  name: string,
  options: PaceCommandOptions,
  out: (text: string) => void = (t) => process.stdout.write(t),
  cwd: string = process.cwd(),
): Promise<number[]> {
  const config = paceConfigFor(name, options, cwd);
  const pacing = await resolvePacing(config, options.iterations, options.datasetSize, cwd);
  const sizes = pacing.schedule();
  if (options.json) {
    out(`${JSON.stringify(sizes)}\n`);
  } else {
    const width = Math.max("iteration".length, String(options.iterations).length);
    out(`${"iteration".padStart(width)}  dataset_size\n`);
    sizes.forEach((size, i) => {
      out(`${String(i).padStart(width)}  ${size}\n`);
    });
  }
  if (options.plot) {
    const base = options.plot.replace(/\.(svg|png)$/i, "");
    const points = sizes.map((dataset_size, iteration) => ({ iteration, dataset_size }));
    const title = `${name} pacing (s=${options.initialSize}, f=${options.finalIteration}, N=${options.datasetSize})`;
    const paths = await renderPlot(paceSpec(points, "iteration", title), base);
    process.stderr.write(`wrote ${paths.svg} and ${paths.png} (folder ${dirname(paths.svg)})\n`);
  }
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
