import type { Command } from "commander";
import { CONFIG_GROUPS, formatListing, list } from "../../experiments/configs.js";
import { out } from "../shared.js";

/** `curricula list <group> [-l|-g] [-p GLOB]`: packaged and local configs of a group. */
export function register(program: Command): void {
  program
    .command("list")
    .description("list the packaged (global) and local configs of a config group")
    .argument("<group>", `config group (${CONFIG_GROUPS.join(", ")})`)
    .option("-l, --local-only", "only the project's conf/<group>")
    .option("-g, --global-only", "only the packaged configs")
    .option("-p, --pattern <glob>", "glob over config names", "*")
    .action((group: string, options: { localOnly?: boolean; globalOnly?: boolean; pattern: string }) => {
      out(formatListing(list(group, options)));
    });
}
