import { type Command, InvalidArgumentError, Option } from "commander";
import { out, say } from "../shared.js";

function port(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) > 65535)
    throw new InvalidArgumentError(`--port expects an integer 0–65535 (0: any free port), got '${text}'.`);
  return Number(text);
}

/**
 * `curricula explore <results_dir> <experiment_id>`: a local web page over an experiment's samples
 * (sortable by every score, filterable, a sample view with its curves, a data map, review tags);
 * prints its URL and serves until stopped. `--static out.html` writes a read-only copy instead.
 */
export function register(program: Command): void {
  program
    .command("explore")
    .description(
      "browse an experiment's samples by score in a local web page (prints its URL; Ctrl-C stops it), or write a read-only copy with --static",
    )
    .argument("<results_dir>", "results folder (e.g. results)")
    .argument("<experiment_id>", "experiment id (e.g. default)")
    .option("--port <n>", "port to listen on (0: any free port)", port, 8765)
    .option(
      "--host <host>",
      "address to listen on (loopback by default: only this machine reaches it)",
      "127.0.0.1",
    )
    .addOption(
      new Option("--subset <name>", "subset whose samples are shown")
        .choices(["train", "dev", "test"])
        .default("train"),
    )
    .option("--static <file>", "write a read-only, self-contained HTML copy to <file> and exit")
    .addHelpText(
      "after",
      "\nKeys in the page: ↑/↓ (j/k) move, m mislabelled, a ambiguous, o fine, 0–9 relabel; tags are written to <results_dir>/<experiment_id>/review/tags.csv.\n\nExamples:\n  curricula explore results default\n  curricula explore results default --static explore.html",
    )
    .action(
      async (
        resultsDir: string,
        experimentId: string,
        options: { port: number; host: string; subset: "train" | "dev" | "test"; static?: string },
      ) => {
        // Loaded on use: keeps every other command's start-up fast.
        const { loadExplore, startExploreServer, writeExploreStatic } = await import(
          "../../explore/index.js"
        );
        const data = await loadExplore(resultsDir, experimentId, { subset: options.subset });
        for (const problem of data.table.problems) say(`note: ${problem}`);
        if (options.static) {
          out(writeExploreStatic(data, options.static));
          return;
        }
        const server = await startExploreServer(data, { port: options.port, host: options.host });
        out(server.url);
        await new Promise<void>((done) => {
          const stop = () => void server.close().then(done);
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
      },
    );
}
