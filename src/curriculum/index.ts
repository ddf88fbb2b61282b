/**
 * Curriculum learning: pacing functions (how many samples each iteration may use), the difficulty
 * ordering and sampler (which samples), and the pace-manager callback the trainer installs when
 * `curriculum` is not None; dynamic samplers (sampling/) and their callback for `curriculum: Dynamic`.
 */

export { CURRICULUM_TYPES, type CurriculumType } from "../config/schema.js";
export {
  classCounts,
  originalQuotas,
  roundHalfEven,
  SAMPLING_MODES,
  type SamplingMode,
  selectSubset,
  subsetClassWeights,
} from "./class-quotas.js";
export {
  CurriculumSampler,
  type CurriculumSamplerOptions,
  type CurriculumSamplerState,
} from "./curriculum-sampler.js";
export { type DynamicSamplerState, DynamicSamplingManager } from "./dynamic-manager.js";
export { difficultyOrder } from "./ordering.js";
export {
  CurriculumPaceManager,
  createCurriculumCallback,
  type PaceManagerState,
} from "./pace-manager.js";
export { paceSpec, paceSummarySpec } from "./pace-plot.js";
export { type PacePreview, type PacePreviewOptions, paceConfigFor, previewPace } from "./pace-preview.js";
export {
  AbstractPace,
  type PaceHooks,
  type PaceOptions,
  PacingError,
  trunc,
} from "./pacing/abstract-pace.js";
export { Adaptive, type AdaptiveArgs } from "./pacing/adaptive.js";
export { Exponential } from "./pacing/exponential.js";
export { Linear } from "./pacing/linear.js";
export { Logarithmic } from "./pacing/logarithmic.js";
export { OneStep } from "./pacing/one-step.js";
export { Polynomial, type PolynomialArgs } from "./pacing/polynomial.js";
export { Quadratic } from "./pacing/quadratic.js";
export {
  createPacing,
  loadCustomPacing,
  PACING_TYPES,
  type PaceClass,
  pacingArgs,
  pacingClass,
  pacingType,
  registerPacing,
  resolvePacing,
} from "./pacing/registry.js";
export { Root } from "./pacing/root.js";
export {
  evaluationsUpTo,
  isRescoreIteration,
  RESCORABLE_TYPES,
  RESCORERS,
  type Rescorer,
  rescore,
  rescoringOf,
} from "./rescore.js";
export { driftSpec } from "./rescore-plot.js";
export {
  AbstractSampler,
  type PassInfo,
  type SamplerOutputs,
  type SamplerSetup,
} from "./sampling/abstract-sampler.js";
export { InfoBatch, type InfoBatchArgs } from "./sampling/info-batch.js";
export {
  EASY,
  HARD,
  NORMAL,
  POOLS,
  type PoolName,
  Pools,
  type PoolsArgs,
  poolAssignment,
  poolQuotas,
} from "./sampling/pools.js";
export {
  createSampler,
  DYNAMIC_SAMPLERS,
  registerSampler,
  resolveSamplerClass,
  type SamplerClass,
  samplerArgs,
} from "./sampling/registry.js";
export { SelfPaced, type SelfPacedArgs, selfPacedPass } from "./sampling/self-paced.js";
export {
  StaticPrune,
  type StaticPruneArgs,
  type StaticPruneDrop,
  staticPruneKept,
} from "./sampling/static-prune.js";
