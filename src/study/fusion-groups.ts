import {
  aggregatedName,
  CURRICULUM_CODES,
  NAMING_KEYS,
  parseRunName,
  tryParseRunName,
} from "../config/naming.js";
import { type FusionResult, fuse } from "../experiments/fusion.js";
import { listRuns } from "../results/experiment.js";
import type { StudyGroup } from "./plan.js";
import type { Study } from "./schema.js";

/**
 * The aggregated names (seed `#`) a study fuses for one group: each curriculum ordering it trained and
 * the baseline, restricted to the group's dataset/model/training fields and the study's seeds.
 */
export function studyFusionNames(resultsDir: string, study: Study, group: StudyGroup): string[] {
  const reference = parseRunName(group.runs[0] as string);
  const shared = NAMING_KEYS.filter((k) => !k.startsWith("curriculum") && k !== "seed");
  const seeds = new Set(group.seeds);
  // The study's orderings, then the baseline: the order they are fused in.
  const codes = [...study.curriculum.orderings, "Baseline" as const].map((c) => CURRICULUM_CODES[c]);
  const byCode = new Map<string, string>();
  for (const name of listRuns(resultsDir, study.experiment_id, { finished: true })) {
    const fields = tryParseRunName(name);
    if (!fields) continue;
    if (!seeds.has(fields.seed) || !shared.every((k) => fields[k] === reference[k])) continue;
    if (!codes.includes(fields.curriculum) || byCode.has(fields.curriculum)) continue;
    byCode.set(fields.curriculum, aggregatedName(name, ["seed"]));
  }
  return codes.flatMap((code) => (byCode.has(code) ? [byCode.get(code) as string] : []));
}

/** Fuses a group's orderings and baseline into `fusion/late-fusion<tag>/`. */
export async function fuseStudyGroup(
  resultsDir: string,
  study: Study,
  group: StudyGroup,
): Promise<FusionResult> {
  const names = studyFusionNames(resultsDir, study, group);
  return fuse(resultsDir, study.experiment_id, names, { id: `late-fusion${group.tag}` });
}
