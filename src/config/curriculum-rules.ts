import { isRecord } from "../util/records.js";
import { CLASS_SAMPLING_IDS, DYNAMIC_CURRICULUM } from "./schema.js";

/**
 * The curriculum rules that config composition applies to every grid point of a training config:
 * a curriculum is complete or absent (aucurriculum's FilterPartialCurriculum), and a training
 * config names its score by id and type only. Kept apart from the generic composer (compose.ts),
 * which calls them.
 */

type ConfigRecord = Record<string, unknown>;

/** An incomplete curriculum: a curriculum needs scoring, pacing and sampling; the None curriculum needs all three None. */
export function isPartialCurriculum(config: ConfigRecord): boolean {
  const c = config.curriculum;
  if (!isRecord(c) || typeof c.id !== "string") return false;
  const idOf = (v: unknown) => (isRecord(v) ? v.id : undefined);
  const parts = [idOf(c.sampling), idOf(c.scoring), idOf(c.pacing)];
  if (c.id === "None") return parts.some((id) => id !== "None");
  // A dynamic sampler needs no pacing, and a score only where it says so.
  if (c.type === DYNAMIC_CURRICULUM) return idOf(c.sampling) === "None" || idOf(c.pacing) !== "None";
  return parts.some((id) => id === "None");
}

/** What makes a config's curriculum incomplete, e.g. `curriculum=Curriculum needs curriculum/sampling (it is None)`. */
export function describePartialCurriculum(config: ConfigRecord): string {
  const c = config.curriculum as ConfigRecord;
  const idOf = (v: unknown) => (isRecord(v) ? String(v.id) : "None");
  const parts = (["scoring", "pacing", "sampling"] as const).map((p) => [p, idOf(c[p])] as const);
  if (c.id === "None") {
    const set = parts.filter(([, id]) => id !== "None").map(([p, id]) => `curriculum/${p}=${id}`);
    const dynamic =
      isRecord(c.sampling) && !(CLASS_SAMPLING_IDS as readonly string[]).includes(String(c.sampling.id));
    const choice = dynamic
      ? "curriculum=Dynamic (a dynamic sampler)"
      : "curriculum=Curriculum, AntiCurriculum or RandomCurriculum";
    return `curriculum=None does not take ${set.join(", ")} (set ${choice}, or drop ${set.length > 1 ? "them" : "it"})`;
  }
  if (c.type === DYNAMIC_CURRICULUM) {
    return idOf(c.pacing) !== "None"
      ? `curriculum=${String(c.id)} takes no curriculum/pacing (got ${idOf(c.pacing)}; a dynamic sampler paces itself)`
      : `curriculum=${String(c.id)} needs curriculum/sampling=<a dynamic sampler> (it is None)`;
  }
  const missing = parts.filter(([, id]) => id === "None").map(([p]) => `curriculum/${p}`);
  return `curriculum=${String(c.id)} needs ${missing.join(", ")} (${missing.length > 1 ? "they are" : "it is"} None)`;
}

/**
 * A training config refers to a computed score by `id` and `type` only (the file
 * `curriculum/<type>/<id>.csv`); the scoring function's own arguments (`run_name: ???` in the
 * packaged CELoss.yaml) were used by `curricula curriculum` and are dropped, so they can neither
 * block training nor make a finished run look changed when only the scoring config was edited.
 */
export function referenceScoreOnly(config: ConfigRecord): void {
  const curriculum = config.curriculum;
  if (!isRecord(curriculum) || !isRecord(curriculum.scoring)) return;
  const { id, type } = curriculum.scoring;
  curriculum.scoring = type === undefined ? { id } : { id, type };
}
