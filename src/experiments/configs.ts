import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { findConfigFile, listConfigNames } from "../config/compose.js";
import { LOCAL_CONFIG_DIRNAME, PACKAGED_CONFIG_DIR } from "../config/package.js";
import { ensureDir } from "../util/dirs.js";
import { CurriculaError, UsageError } from "../util/errors.js";

/**
 * `curricula create`, `list` and `show`: a project's `conf/` folder and the packaged configs it
 * starts from.
 */

/** Config groups `create`, `list` and `show` accept (autrainer's and aucurriculum's). */
export const CONFIG_GROUPS = [
  "augmentation",
  "dataset",
  "model",
  "optimizer",
  "plotting",
  "scheduler",
  "curriculum",
  "curriculum/pacing",
  "curriculum/sampling",
  "curriculum/scoring",
] as const;

/** Entry configs `create` copies into conf/. */
export const ENTRY_CONFIGS = ["config.yaml", "curriculum.yaml"] as const;

export interface CreateOptions {
  groups?: string[];
  empty?: boolean;
  all?: boolean;
  force?: boolean;
  cwd?: string;
}

function checkGroup(group: string): void {
  if (!(CONFIG_GROUPS as readonly string[]).includes(group)) {
    throw new UsageError(`Invalid configuration directory '${group}'.`);
  }
}

/** Creates a project's `conf/` with the entry configs and the named group folders. Returns created paths. */
export function create(options: CreateOptions = {}): string[] {
  const groups = options.groups ?? [];
  const cwd = options.cwd ?? process.cwd();
  if (options.empty && options.all)
    throw new UsageError("The flags -e/--empty and -a/--all are mutually exclusive.");
  if ((options.empty || options.all) && groups.length > 0) {
    throw new UsageError(
      "The flags -e/--empty and -a/--all are mutually exclusive with configuration directories.",
    );
  }
  if (!options.empty && !options.all && groups.length === 0) {
    throw new UsageError("No configuration directories specified.");
  }
  for (const group of groups) checkGroup(group);
  const conf = join(cwd, LOCAL_CONFIG_DIRNAME);
  if (existsSync(conf) && !options.force) {
    throw new CurriculaError(
      `Directory '${LOCAL_CONFIG_DIRNAME}' already exists. Use -f/--force to overwrite it.`,
    );
  }
  ensureDir(conf);
  const created: string[] = [];
  for (const file of ENTRY_CONFIGS) {
    copyFileSync(join(PACKAGED_CONFIG_DIR, file), join(conf, file));
    created.push(join(conf, file));
  }
  const dirs = options.all ? [...CONFIG_GROUPS] : options.empty ? [] : groups;
  for (const group of dirs) {
    ensureDir(join(conf, group));
    created.push(join(conf, group));
  }
  return created;
}

export interface ListOptions {
  localOnly?: boolean;
  globalOnly?: boolean;
  pattern?: string;
  configPath?: string;
  cwd?: string;
}

/** Matches a shell glob (`*`, `?`, `[abc]`) against a whole name. */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\");
        source += `[${body}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

export interface ConfigListing {
  scope: "global" | "local";
  group: string;
  names: string[];
}

/** Lists packaged (global) and local configs of a group, glob-filtered. */
export function list(group: string, options: ListOptions = {}): ConfigListing[] {
  checkGroup(group);
  const cwd = options.cwd ?? process.cwd();
  const localDir = resolve(cwd, options.configPath ?? LOCAL_CONFIG_DIRNAME);
  const showGlobal = !options.localOnly || options.globalOnly;
  const showLocal = !options.globalOnly || options.localOnly;
  const matcher = globToRegExp(options.pattern ?? "*");
  const out: ConfigListing[] = [];
  if (showGlobal) {
    out.push({
      scope: "global",
      group,
      names: listConfigNames(PACKAGED_CONFIG_DIR, group).filter((n) => matcher.test(n)),
    });
  }
  if (showLocal) {
    if (!existsSync(join(localDir, group))) {
      if (options.localOnly && !options.globalOnly) {
        throw new CurriculaError(
          `Local conf directory '${group}' does not exist.\n Use 'curricula create ${group}' to create a new project.`,
        );
      }
      out.push({ scope: "local", group, names: [] });
    } else {
      out.push({
        scope: "local",
        group,
        names: listConfigNames(localDir, group).filter((n) => matcher.test(n)),
      });
    }
  }
  return out;
}

/** Formats a listing as the original prints it. */
export function formatListing(listings: readonly ConfigListing[]): string {
  return listings
    .map((l) => {
      const scope = l.scope === "global" ? "global" : "local";
      const title = scope.charAt(0).toUpperCase() + scope.slice(1);
      if (l.names.length === 0) return `No ${scope} '${l.group}' configurations found.`;
      return [`${title} '${l.group}' configurations:`, ...l.names.map((n) => ` - ${n}`)].join("\n");
    })
    .join("\n");
}

export interface ShowOptions {
  save?: boolean;
  force?: boolean;
  cwd?: string;
}

/** The text of a packaged config; with `save`, also copies it into `conf/<group>/`. */
export function show(
  group: string,
  name: string,
  options: ShowOptions = {},
): { text: string; saved?: string } {
  checkGroup(group);
  const bare = name.replace(/\.ya?ml$/, "");
  const file = findConfigFile([PACKAGED_CONFIG_DIR], group, bare);
  if (!file) throw new CurriculaError(`No global configuration '${bare}' found for '${group}'.`);
  const text = readFileSync(file, "utf8");
  if (!options.save) return { text };
  const target = join(options.cwd ?? process.cwd(), LOCAL_CONFIG_DIRNAME, group, `${bare}.yaml`);
  if (existsSync(target) && !options.force) {
    throw new CurriculaError(`${group} configuration '${bare}' already exists. Use -f to overwrite.`);
  }
  ensureDir(join(target, ".."));
  copyFileSync(file, target);
  return { text, saved: target };
}
