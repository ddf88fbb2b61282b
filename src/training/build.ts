import { type RunConfig, RunConfigSchema } from "../config/schema.js";
import { ConfigError } from "../util/errors.js";

/** Validates a run config (defaults filled in); errors name the key. */
export function validateRunConfig(config: unknown, file?: string): RunConfig {
  const parsed = RunConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(issue?.path.join(".") || "<root>", issue?.message ?? "invalid run config", file);
  }
  return parsed.data;
}
