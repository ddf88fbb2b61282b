// Placeholder until the curriculum module lands (owned by the curriculum engineer): keeps the
// trainer's import resolvable. Replaced wholesale; must not ship.
import type { RunConfig } from "../experiments/schema.js";
import type { TrainCallback } from "../training/types.js";

export function createCurriculumCallback(config: RunConfig): TrainCallback | null {
  if (config.curriculum.id === "None") return null;
  throw new Error("curriculum training is not available yet");
}
