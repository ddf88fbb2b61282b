import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../util/errors.js";
import { AbstractScore, type ScoreContext } from "./abstract-score.js";
import { AUM } from "./functions/aum.js";
import { Cartography } from "./functions/cartography.js";
import { CELoss } from "./functions/ce-loss.js";
import { ConfidentLearning } from "./functions/confident-learning.js";
import { CumulativeAccuracy } from "./functions/cumulative-accuracy.js";
import { CVLoss } from "./functions/cv-loss.js";
import { EL2N } from "./functions/el2n.js";
import { FirstIteration } from "./functions/first-iteration.js";
import { Forgetting } from "./functions/forgetting.js";
import { GraNd } from "./functions/grand.js";
import { Hardness } from "./functions/hardness.js";
import { Mistakenness } from "./functions/mistakenness.js";
import { OnlineLoss } from "./functions/online-loss.js";
import { PassRate } from "./functions/pass-rate.js";
import { Predefined } from "./functions/predefined.js";
import { PredictionDepth } from "./functions/prediction-depth.js";
import { RandomScore } from "./functions/random.js";
import { Representativeness } from "./functions/representativeness.js";
import { TransferTeacher } from "./functions/transfer-teacher.js";
import { Uniqueness } from "./functions/uniqueness.js";

/** A concrete scoring class (what `type`, or `module` + `class`, names). */
export type ScoreClass = (new (
  params: Record<string, unknown>,
  context: ScoreContext,
  source?: string,
) => AbstractScore) &
  Pick<typeof AbstractScore, "schema" | "reference">;

/** Built-in scoring functions by config `type`. */
export const SCORING_TYPES: Readonly<Record<string, ScoreClass>> = Object.freeze({
  CELoss,
  CumulativeAccuracy,
  CVLoss,
  FirstIteration,
  PredictionDepth,
  Predefined,
  Random: RandomScore,
  TransferTeacher,
  AUM,
  Forgetting,
  Cartography,
  EL2N,
  GraNd,
  ConfidentLearning,
  Hardness,
  Mistakenness,
  Uniqueness,
  Representativeness,
  OnlineLoss,
  PassRate,
});

/**
 * Duck-typed check: a user module may import AbstractScore from the installed package (dist) while
 * curricula runs from another copy, so `instanceof` would wrongly fail.
 */
function isScoreClass(value: unknown): boolean {
  if (typeof value !== "function") return false;
  const candidate = value as { prototype?: Record<string, unknown>; schema?: unknown };
  return (
    value.prototype instanceof AbstractScore ||
    (typeof candidate.prototype?.score === "function" &&
      typeof candidate.prototype?.run === "function" &&
      candidate.schema !== undefined)
  );
}

/** True for the placeholder scoring config (`id: None`), which cannot be computed. */
export function isPlaceholderScoring(scoring: Record<string, unknown> | undefined | null): boolean {
  return !scoring || scoring.id === "None" || scoring.id === undefined || scoring.type === "None";
}

/**
 * The class of a scoring config: a user's module (`module: ./my_score.js`, `class: MaxProbability`,
 * resolved against `cwd`) exporting a subclass of AbstractScore, else the built-in `type`.
 */
export async function resolveScoreClass(
  scoring: Record<string, unknown>,
  cwd = process.cwd(),
): Promise<ScoreClass> {
  if (typeof scoring.module === "string") {
    const path = isAbsolute(scoring.module) ? scoring.module : resolve(cwd, scoring.module);
    const exportName = typeof scoring.class === "string" ? scoring.class : String(scoring.type);
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(
        "curriculum.scoring.module",
        `cannot import ${path}: ${(error as Error).message}`,
      );
    }
    const cls = module[exportName];
    if (!isScoreClass(cls)) {
      throw new ConfigError(
        "curriculum.scoring.class",
        `${path} has no exported subclass of AbstractScore named '${exportName}' (exports: ${Object.keys(module).join(", ") || "none"})`,
      );
    }
    return cls as unknown as ScoreClass;
  }
  const type = String(scoring.type ?? scoring.id);
  const cls = SCORING_TYPES[type];
  if (!cls) {
    throw new ConfigError(
      "curriculum.scoring.type",
      `unknown scoring function '${type}'; expected one of ${Object.keys(SCORING_TYPES).join(", ")} or a module + class`,
    );
  }
  return cls;
}
