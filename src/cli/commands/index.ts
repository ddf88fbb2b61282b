import type { Command } from "commander";

/**
 * Every CLI command module exports `register(program)`; add one import and one entry per command.
 */
export type CommandRegistrar = (program: Command) => void;

export const COMMANDS: CommandRegistrar[] = [];
