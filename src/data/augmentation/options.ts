import { z } from "zod";
import { ConfigError } from "../../util/errors.js";

/** `p`, the probability a step is applied (default given per step). */
export const probability = (fallback: number) => z.number().min(0).max(1).default(fallback);

/** A [low, high] range with low ≤ high. */
export const range = (fallback: [number, number], min = Number.NEGATIVE_INFINITY) =>
  z
    .tuple([z.number().min(min), z.number().min(min)])
    .default(fallback)
    .refine(([a, b]) => a <= b, "expected [low, high] with low <= high");

/** Parses a step's options with its schema; errors name the pipeline entry and the key. */
export function parseStep<T extends z.ZodObject>(
  schema: T,
  options: Record<string, unknown>,
  where: string,
): z.infer<T> {
  const result = schema.strict().safeParse(options);
  if (result.success) return result.data as z.infer<T>;
  const issue = result.error.issues[0];
  const key =
    issue?.path.join(".") || (issue?.code === "unrecognized_keys" ? (issue.keys ?? []).join(", ") : "");
  throw new ConfigError(`${where}${key ? `.${key}` : ""}`, issue?.message ?? "invalid");
}
