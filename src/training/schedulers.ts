import type { SchedulerConfig } from "../config/schema.js";
import { ConfigError } from "../util/errors.js";

/**
 * Learning-rate schedules, stepped once per evaluation (autrainer's default `step_frequency:
 * evaluation`). A schedule is a pure function of the number of steps taken, so its whole state is
 * that count and a resumed run continues on the same curve.
 */
export type LearningRateSchedule = (steps: number) => number;

/** StepLR defaults (PyTorch/autrainer): decay by 0.1 every 30 evaluations. */
export const STEP_LR_DEFAULTS = { step_size: 30, gamma: 0.1 } as const;

/** The rate after `steps` StepLR steps: `base * gamma^floor(steps / step_size)`. */
export function stepLr(base: number, steps: number, stepSize: number, gamma: number): number {
  return base * gamma ** Math.floor(steps / stepSize);
}

/**
 * The rate after `steps` cosine-annealing steps (Loshchilov & Hutter, "SGDR", arXiv 1608.03983,
 * without restarts; PyTorch's CosineAnnealingLR): `eta_min + (base - eta_min)(1 + cos(pi t/T))/2`,
 * clamped at `eta_min` once `t >= T`.
 */
export function cosineLr(base: number, steps: number, totalSteps: number, etaMin: number): number {
  if (totalSteps <= 0 || steps >= totalSteps) return etaMin;
  return etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * steps) / totalSteps))) / 2;
}

/** Number of evaluations of a run: every `evalFrequency` iterations, plus the last iteration. */
export function countEvaluations(iterations: number, evalFrequency: number): number {
  return Math.ceil(iterations / evalFrequency);
}

/**
 * Builds the schedule named by `scheduler.type` for a base rate; `totalSteps` is the number of
 * scheduler steps in the run (the number of evaluations), over which Cosine anneals to `eta_min`.
 */
export function createSchedule(
  config: SchedulerConfig,
  baseLr: number,
  totalSteps: number,
): LearningRateSchedule {
  switch (config.type) {
    case "None":
      return () => baseLr;
    case "StepLR": {
      const stepSize = config.step_size ?? STEP_LR_DEFAULTS.step_size;
      const gamma = config.gamma ?? STEP_LR_DEFAULTS.gamma;
      return (steps) => stepLr(baseLr, steps, stepSize, gamma);
    }
    case "Cosine": {
      const etaMin = config.eta_min ?? 0;
      if (etaMin > baseLr) {
        throw new ConfigError("scheduler.eta_min", `must not exceed learning_rate ${baseLr}, got ${etaMin}`);
      }
      return (steps) => cosineLr(baseLr, steps, totalSteps, etaMin);
    }
    default:
      throw new ConfigError(
        "scheduler.type",
        `unknown scheduler '${(config as { type: string }).type}' (expected None, StepLR or Cosine)`,
      );
  }
}
