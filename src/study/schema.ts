import { z } from "zod";
import { CURRICULUM_TYPES, pathIdRefinement } from "../config/schema.js";

/**
 * A study file (`curricula study study.yaml`): the whole train → score → curriculum-train → report
 * chain in one place. Every value under `training` is a training override (`dataset: Digits`,
 * `model: FFNN,CNN` or a list sweeps a grid); every key under `scoring` names a scoring config
 * (packaged or in conf/curriculum/scoring) with the parameters to set on it.
 */
const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const OverrideValue = z.union([Scalar, z.array(Scalar)]);

export const StudySchema = z
  .object({
    results_dir: z.string().min(1).default("results"),
    experiment_id: z
      .string()
      .min(1)
      .refine((s) => !s.includes("_"), "must not contain '_' (run names are split on '_')")
      .superRefine(pathIdRefinement)
      .default("study"),
    /** Training overrides shared by every run of the study. */
    training: z.record(z.string(), OverrideValue).default({}),
    /** Training seeds; every seed trains the baseline and each curriculum ordering once. */
    seeds: z.array(z.number().int().nonnegative()).min(1).default([1, 2, 3]),
    /**
     * Dataset seed shared by all runs, so every seed trains and is scored on the same split and the
     * per-seed scores can be averaged (runs use the seed "T-D": training seed T, dataset seed D).
     */
    data_seed: z.number().int().nonnegative().default(1),
    /** Scoring functions: config name → parameters (null or {} for the packaged defaults). */
    scoring: z
      .record(z.string().superRefine(pathIdRefinement), z.record(z.string(), z.unknown()).nullable())
      .refine((s) => Object.keys(s).length > 0, "name at least one scoring function"),
    correlation: z.enum(["spearman", "kendall", "pearson"]).default("spearman"),
    /**
     * A run-based scoring function of the study whose baseline seed ensemble also scores the dev and
     * test subsets (`<id>-dev`, `<id>-test`); postprocess then reports every run's metrics on the
     * hardest 10/25/50/100% of them (`summary/difficulty.csv`). Null: no difficulty-aware evaluation.
     */
    difficulty: z.string().min(1).nullable().default(null),
    /** Late fusion of every ordering and the baseline (`fusion/late-fusion/`). */
    fusion: z.boolean().default(true),
    curriculum: z
      .object({
        /** The scoring function whose seed ensemble orders the curriculum runs. */
        scoring: z.string().min(1),
        pacing: z.string().min(1).default("Linear"),
        initial_size: z.number().gt(0).lte(1).default(0.2),
        final_iteration: z.number().min(0).max(1).default(0.8),
        sampling: z.enum(["Unbalanced", "Balanced", "Original"]).default("Balanced"),
        orderings: z
          .array(z.enum(CURRICULUM_TYPES))
          .min(1)
          .default([...CURRICULUM_TYPES]),
      })
      .strict(),
    report: z.boolean().default(true),
    /** Cluster resources of the study's jobs with --executor slurm (see docs/cluster.md). */
    slurm: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type Study = z.infer<typeof StudySchema>;
