import { CommanderError } from "commander";
import { CurriculaError, UsageError } from "../util/errors.js";
import { clearLiveLines } from "../util/progress.js";
import { redactCredentials } from "../util/secrets.js";
import { createProgram } from "./program.js";
import { rewriteArgv } from "./shared.js";

/**
 * Entry point of the `curricula` command (bin/curricula.js imports this module). Exit codes:
 * 0 success, 1 runtime failure, 2 usage error; messages go to stderr.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const program = createProgram();
  // An error of a client library may quote the Redis URL or its password: never shown.
  const secrets = [process.env.CURRICULA_REDIS_URL, ...serviceUrls(argv)];
  const say = (text: string) => process.stderr.write(redactCredentials(text, secrets));
  try {
    await program.parseAsync(rewriteArgv(argv), { from: "user" });
    return 0;
  } catch (error) {
    // The message goes below a clean screen, not between live progress lines.
    clearLiveLines();
    if (error instanceof CommanderError) {
      // help and version end with code 0; commander already printed its own usage errors.
      if (["commander.helpDisplayed", "commander.version", "commander.help"].includes(error.code)) {
        return error.exitCode === 0 ? 0 : 2;
      }
      return 2;
    }
    if (error instanceof UsageError) {
      if (error.message === "No command provided.") program.outputHelp({ error: true });
      say(`error: ${error.message}\n(run with --help for usage)\n`);
      return 2;
    }
    if (error instanceof CurriculaError) {
      say(`error: ${error.message}\n`);
      return error.exitCode;
    }
    const err = error as Error;
    say(`error: ${err?.message ?? String(error)}\n`);
    if (process.env.CURRICULA_DEBUG && err?.stack) say(`${err.stack}\n`);
    return 1;
  }
}

/** The values of `--redis <url>` / `--redis=<url>` on a command line. */
function serviceUrls(argv: readonly string[]): string[] {
  const urls: string[] = [];
  for (const [i, arg] of argv.entries()) {
    if (arg === "--redis" && argv[i + 1]) urls.push(argv[i + 1] as string);
    else if (arg.startsWith("--redis=")) urls.push(arg.slice("--redis=".length));
  }
  return urls;
}

const code = await main();
// Exit explicitly: engine thread pools or open handles must not keep a finished command alive.
process.stdout.write("", () => process.exit(code));
