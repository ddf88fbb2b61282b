import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout under test. */
export const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** `npm pack` of the checkout into `dest`: the tarball's path and the packed file list. */
export function packCurricula(dest: string): { tarball: string; files: string[] } {
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dest], {
    cwd: REPO,
    encoding: "utf8",
  });
  const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dest, info?.filename ?? ""), files: (info?.files ?? []).map((f) => f.path) };
}

/**
 * Unpacks a tarball as `project`'s node_modules/curricula, writes the project's package.json and
 * links the named packages from the checkout's node_modules (no network); returns the installed folder.
 */
export function installPacked(
  tarball: string,
  project: string,
  links: readonly string[],
  manifest: Record<string, unknown> = {},
): string {
  const installed = join(project, "node_modules", "curricula");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "consumer", version: "1.0.0", private: true, ...manifest }),
  );
  for (const name of links) {
    const target = join(project, "node_modules", name);
    mkdirSync(dirname(target), { recursive: true });
    if (!existsSync(target)) symlinkSync(join(REPO, "node_modules", name), target, "dir");
  }
  return installed;
}
