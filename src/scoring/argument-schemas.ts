import { z } from "zod";
import { nearestKeys } from "../config/keys.js";
import { parseConfig } from "../config/parse.js";
import { ConfigError } from "../util/errors.js";

/**
 * Parameter schemas shared by the scoring functions. Each scoring class declares a zod object of
 * exactly its constructor arguments; its packaged YAML lists the same keys (required ones `???`),
 * which test/scoring/configs.test.ts checks for every class in the registry.
 */
const SUBSETS = ["train", "dev", "test"] as const;
const STOPS = ["best", "last"] as const;

/** Parameters earlier versions took, with what to do instead (an error says so). */
const REMOVED_PARAMS: Readonly<Record<string, string>> = {
  dataset_seed:
    "no longer needed: a dataset's split is its config's split_seed (dataset.split_seed), the same for every run; remove the key",
};

function nearestHint(key: string, known: readonly string[]): string {
  const nearest = nearestKeys(key, known);
  return nearest.length > 0 ? ` (nearest: ${nearest.join(", ")})` : "";
}

/** The value Hydra-style configs use for "must be given". */
export const MISSING = "???";

/** Keys every scoring config carries besides the constructor arguments. */
const CONFIG_KEYS = ["id", "type", "module", "class"] as const;

const subset = z.string().default("train");
const tieBreak = z.enum(["first", "random"]).default("first");

/** Arguments of every scoring function. */
export const BaseScoreParams = z.object({
  subset,
  /** How equal scores are ordered in `ranks` (`random` is seeded by `tie_break_seed`). */
  tie_break: tieBreak,
  tie_break_seed: z.number().int().default(0),
});

/** One training run name or several (an ensemble); aggregated names (`#`) expand to their members. */
const RunNames = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** Arguments of scoring functions that read a trained model. */
export const ModelScoreParams = BaseScoreParams.extend({
  run_name: RunNames,
  stop: z.string().default("best"),
});

const CRITERIA = ["CrossEntropyLoss", "BalancedCrossEntropyLoss"] as const;
export type ScoringCriterion = (typeof CRITERIA)[number];

/** `CrossEntropyLoss`, `BalancedCrossEntropyLoss`, or a dotted path ending in one (autrainer configs). */
export const Criterion = z
  .string()
  .default("CrossEntropyLoss")
  .transform((value, ctx) => {
    const last = value.split(".").pop() as string;
    if (!(CRITERIA as readonly string[]).includes(last)) {
      ctx.addIssue({ code: "custom", message: `must be one of ${CRITERIA.join(", ")}, got '${value}'` });
      return z.NEVER;
    }
    return last as ScoringCriterion;
  });

/**
 * Validates scoring parameters against a class's schema. `subset` and `stop` keep aucurriculum's
 * messages; `???` values and unknown keys are errors naming the key.
 */
export function parseScoreParams<S extends z.ZodObject>(
  schema: S,
  raw: Record<string, unknown>,
  source: string,
): z.output<S> {
  const subsetValue = raw.subset ?? "train";
  if (!(SUBSETS as readonly unknown[]).includes(subsetValue)) {
    throw new ConfigError(
      "curriculum.scoring.subset",
      `Subset '${String(subsetValue)}' not supported`,
      source,
    );
  }
  if ("stop" in schema.shape && raw.stop !== undefined && !(STOPS as readonly unknown[]).includes(raw.stop)) {
    throw new ConfigError(
      "curriculum.scoring.stop",
      `Stop must be in ['best', 'last'], but got stop='${String(raw.stop)}'`,
      source,
    );
  }
  const params: Record<string, unknown> = {};
  const keys = Object.keys(raw).filter((key) => !(CONFIG_KEYS as readonly string[]).includes(key));
  for (const key of keys) {
    const removed = REMOVED_PARAMS[key];
    if (removed && !(key in schema.shape))
      throw new ConfigError(`curriculum.scoring.${key}`, removed, source);
    if (!(key in schema.shape)) {
      throw new ConfigError(
        `curriculum.scoring.${key}`,
        `unknown parameter${nearestHint(key, Object.keys(schema.shape))}; expected one of ${Object.keys(schema.shape).join(", ")}`,
        source,
      );
    }
  }
  for (const key of keys) {
    const value = raw[key];
    if (value === MISSING) {
      throw new ConfigError(`curriculum.scoring.${key}`, "required value missing (still '???')", source);
    }
    params[key] = value;
  }
  return parseConfig(schema, params, { key: "curriculum.scoring", file: source });
}

/** Names and defaults of a schema's keys: `required` when the key has no default. */
export function describeParams(schema: z.ZodObject): { key: string; required: boolean; default?: unknown }[] {
  return Object.entries(schema.shape).map(([key, field]) => {
    const result = (field as z.ZodType).safeParse(undefined);
    return result.success ? { key, required: false, default: result.data } : { key, required: true };
  });
}
