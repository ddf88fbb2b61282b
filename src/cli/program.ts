import { Command } from "commander";
import { packageVersion } from "../config/package.js";
import { UsageError } from "../util/errors.js";
import { setProgressEnabled } from "../util/progress.js";
import { COMMANDS } from "./commands/index.js";

/**
 * The `curricula` commander program. Settings that subcommands inherit (exitOverride, help after
 * errors, output) are set before any command is added, so other engineers' commands get them too.
 */
export function createProgram(): Command {
  const program = new Command("curricula");
  program
    .description(
      "Curriculum learning toolkit: train, score sample difficulty, train with curricula, summarise.",
    )
    .version(`curricula ${packageVersion()}`, "-v, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .option("--no-progress", "no progress bars (also when stderr is not a terminal)")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .hook("preAction", (thisCommand) => {
      setProgressEnabled(thisCommand.optsWithGlobals().progress !== false);
    })
    .usage("[options] <command> [arguments]")
    .allowExcessArguments(true)
    .argument("[command]")
    .action((command: string | undefined) => {
      if (command === undefined) throw new UsageError("No command provided.");
      throw new UsageError(`Unknown command '${command}'.`);
    });
  for (const register of COMMANDS) register(program);
  return program;
}
