import { relative } from "node:path";
import type { Command } from "commander";
import { CONFIG_GROUPS, create } from "../../experiments/configs.js";
import { say } from "../shared.js";

/** `curricula create [groups...] [-e] [-a] [-f]`: a project's conf/ with the entry configs. */
export function register(program: Command): void {
  program
    .command("create")
    .description("create conf/ with config.yaml, curriculum.yaml and the named config group folders")
    .argument("[groups...]", `config groups to create folders for (${CONFIG_GROUPS.join(", ")})`)
    .option("-e, --empty", "only conf/config.yaml and conf/curriculum.yaml")
    .option("-a, --all", "a folder for every config group")
    .option("-f, --force", "overwrite an existing conf/")
    .action((groups: string[], options: { empty?: boolean; all?: boolean; force?: boolean }) => {
      const created = create({ groups, empty: options.empty, all: options.all, force: options.force });
      for (const path of created) say(`created ${relative(process.cwd(), path)}`);
    });
}
