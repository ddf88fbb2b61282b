import { relative } from "node:path";
import type { Command } from "commander";
import { CONFIG_GROUPS, show } from "../../experiments/configs.js";
import { out, say } from "../shared.js";

/** `curricula show <group> <name> [-s] [-f]`: prints (and saves) a packaged config. */
export function register(program: Command): void {
  program
    .command("show")
    .description("print a packaged config; --save copies it into conf/<group>/ to edit")
    .argument("<group>", `config group (${CONFIG_GROUPS.join(", ")})`)
    .argument("<name>", "config name (with or without .yaml)")
    .option("-s, --save", "save it as conf/<group>/<name>.yaml")
    .option("-f, --force", "overwrite an existing local config")
    .action((group: string, name: string, options: { save?: boolean; force?: boolean }) => {
      const { text, saved } = show(group, name, options);
      out(text);
      if (saved) say(`saved ${relative(process.cwd(), saved)}`);
    });
}
