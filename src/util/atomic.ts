import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describeFsError, ensureDir, ensureDirAsync } from "./dirs.js";
import { CurriculaError } from "./errors.js";

/** A temporary sibling path: same folder, so the final rename is atomic on POSIX. */
function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** A write that failed: names the final path (not the temporary one), the reason and its code. */
export class WriteError extends CurriculaError {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, cause: NodeJS.ErrnoException) {
    super(`cannot write ${path}: ${describeFsError(cause)}`);
    this.name = "WriteError";
    this.path = path;
    this.code = cause.code;
  }
}

function writeError(path: string, error: unknown): Error {
  if (error instanceof CurriculaError) return error;
  const err = error as NodeJS.ErrnoException;
  return err.code ? new WriteError(path, err) : err;
}

/**
 * Writes a file atomically: data goes to a temporary sibling first, then is renamed over `path`.
 * A crash never leaves a half-written file under the final name.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  ensureDir(dirname(path));
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw writeError(path, error);
  }
}

/** Async variant of {@link writeFileAtomicSync}. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await ensureDirAsync(dirname(path));
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw writeError(path, error);
  }
}

/**
 * Builds a directory atomically: `fill` writes into a temporary sibling directory, which is then
 * renamed to `dir` (replacing an older one). Readers never see a half-filled directory.
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  await ensureDirAsync(dirname(dir));
  const tmp = tempPathFor(dir);
  try {
    await mkdir(tmp);
  } catch (error) {
    throw writeError(dir, error);
  }
  try {
    await fill(tmp);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** The pid of the process that wrote a temporary sibling (`<name>.tmp-<pid>-<hex>`), or null for another name. */
export function temporaryWriterPid(name: string): number | null {
  const match = /\.tmp-(\d+)-[0-9a-f]+$/.exec(name);
  return match ? Number(match[1]) : null;
}

/**
 * Whether a process with this pid lives on this host. A zombie (a killed process its parent has not
 * reaped yet, as after a SIGKILL of a command's whole process group where no init reaps orphans)
 * answers signals but holds nothing: it counts as gone.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ...", comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (not Linux): the signal's answer stands
  }
}

/**
 * Removes the temporary files and folders of atomic writes in `dir` (and its subfolders when
 * `recursive`) whose writing process is gone (a killed command leaves them); those of live
 * processes on this host are left alone.
 */
export function removeStaleTemporaries(dir: string, recursive = true): string[] {
  const removed: string[] = [];
  const visit = (folder: string) => {
    for (const name of existsSync(folder) ? readdirSync(folder) : []) {
      const path = join(folder, name);
      const writer = temporaryWriterPid(name);
      if (writer !== null) {
        if (!processAlive(writer)) {
          rmSync(path, { recursive: true, force: true });
          removed.push(path);
        }
        continue;
      }
      if (!recursive) continue;
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        continue; // removed meanwhile
      }
      if (isDir) visit(path);
    }
  };
  visit(dir);
  return removed;
}
