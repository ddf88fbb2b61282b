import { createInterface } from "node:readline";
import { InvalidArgumentError } from "commander";
import { writeLine } from "../util/progress.js";

/** Helpers shared by the CLI commands. */

/** Marks the start of one `-a/--aggregate` list (inserted by `rewriteArgv`). */
export const AGGREGATE_SENTINEL = "\u0000agg";

/**
 * Rewrites Hydra-style flags commander cannot express: `-cn`/`-cp` become `--config-name` /
 * `--config-path`, and every `-a`/`--aggregate` of `postprocess` gets a sentinel value after it so
 * repeated flags stay separate lists (`-a seed -a model` is [[seed], [model]], not [seed, model]).
 */
export function rewriteArgv(args: readonly string[]): string[] {
  const out: string[] = [];
  const isPostprocess = args.includes("postprocess");
  for (const arg of args) {
    if (arg === "-cn") out.push("--config-name");
    else if (arg === "-cp") out.push("--config-path");
    else if (arg.startsWith("-cn=")) out.push(`--config-name=${arg.slice(4)}`);
    else if (arg.startsWith("-cp=")) out.push(`--config-path=${arg.slice(4)}`);
    else if (isPostprocess && (arg === "-a" || arg === "--aggregate")) out.push(arg, AGGREGATE_SENTINEL);
    else if (isPostprocess && arg.startsWith("--aggregate="))
      out.push("--aggregate", AGGREGATE_SENTINEL, arg.slice(12));
    else out.push(arg);
  }
  return out;
}

/** Commander argParser collecting repeated variadic `-a` flags into a list of lists. */
export function collectAggregate(value: string, previous: string[][] | undefined): string[][] {
  const lists = previous ? previous.map((l) => [...l]) : [];
  if (value === AGGREGATE_SENTINEL || lists.length === 0) lists.push([]);
  if (value !== AGGREGATE_SENTINEL) (lists[lists.length - 1] as string[]).push(value);
  return lists;
}

/** Commander argParser for a positive integer option (a usage error otherwise). */
export function positiveInt(flag: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isInteger(value) || value < 1) {
      throw new InvalidArgumentError(`${flag} expects a positive integer, got '${text}'.`);
    }
    return value;
  };
}

/** Commander argParser collecting repeated non-negative integers. */
export function collectInts(flag: string) {
  return (text: string, previous: number[] | undefined): number[] => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()))
      throw new InvalidArgumentError(`${flag} expects integers, got '${text}'.`);
    return [...(previous ?? []), value];
  };
}

/** Writes a line to stderr (messages) or stdout (command output). */
export function say(line: string): void {
  writeLine(line);
}

export function out(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** Asks a yes/no question on the terminal; anything but y/yes (or no input) is no. */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    say(`${question} [y/N] (no terminal to answer on; use -f/--force)`);
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolveAnswer) => {
      rl.question(`${question} [y/N] `, resolveAnswer);
      rl.once("close", () => resolveAnswer(""));
    });
    return ["y", "yes"].includes(answer.trim().toLowerCase());
  } finally {
    rl.close();
  }
}
