import { z } from "zod";
import { pathIdProblem } from "../util/path-safety.js";

/**
 * Schemas of a resolved run configuration: the `config.yaml` saved in every run folder, from which
 * the run can be rebuilt exactly. Types are inferred from the schemas so they never drift apart.
 * Group configs (dataset, model, ...) keep extra keys (`.passthrough()`): they are the constructor
 * arguments of the class their `type` names.
 */

const Id = z.string().min(1);

/** Zod check of an id that becomes a folder name (util/path-safety.ts: one path segment). */
export function pathIdRefinement(value: string, ctx: z.RefinementCtx): void {
  const problem = pathIdProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: `${problem} (it becomes a folder name)` });
}

/**
 * The seed of a dataset's split (and of the Toy dataset's generated samples) when its config does
 * not set `split_seed`: a property of the dataset, never of a run's training seed, so runs of any
 * seeds share their split and their per-sample results can be averaged.
 */
export const DEFAULT_SPLIT_SEED = 1;

/**
 * Controlled label noise on the train subset (src/data/label-noise.ts): ⌊rate · N⌋ train labels
 * change, chosen by `seed`; `kind` symmetric (to another class, uniformly), pairflip (k → k + 1) or
 * map (the `map` table of class names). Part of the run's identity and name.
 */
export const LabelNoiseConfigSchema = z
  .object({
    rate: z.number().min(0).lt(1),
    kind: z.enum(["symmetric", "pairflip", "map"]).default("symmetric"),
    seed: z.number().int().min(0).default(0),
    map: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).optional(),
  })
  .strict()
  .refine((v) => (v.kind === "map") === (v.map !== undefined), {
    message: "kind map needs a map {from class: to class}, and only kind map takes one",
    path: ["map"],
  });

/** A file's or a list's fingerprint as a config records it: 64 lowercase hex digits. */
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a sha256 (64 lowercase hex digits)");

/**
 * Review tags fed into a run (src/data/review-edits.ts): `exclude` (a tags file, or a list of
 * source_index ids) drops samples from the train subset, `relabel` (a tags file) gives samples the
 * label a person chose. Their fingerprints (`exclude_sha256`, `relabel_sha256`) are filled in when
 * a run starts, so config.yaml records which tags a run trained with; no part of the run name.
 */
export const REVIEW_DATASET_KEYS = ["exclude", "exclude_sha256", "relabel", "relabel_sha256"] as const;

export const DatasetConfigSchema = z
  .object({
    id: Id,
    type: Id,
    criterion: z.enum(["CrossEntropy", "BalancedCrossEntropy"]).default("CrossEntropy"),
    metrics: z
      .array(z.enum(["accuracy", "uar", "f1"]))
      .min(1)
      .default(["accuracy", "uar", "f1"]),
    tracking_metric: z.enum(["accuracy", "uar", "f1"]).default("accuracy"),
    split_seed: z.number().int().min(0).default(DEFAULT_SPLIT_SEED),
    label_noise: LabelNoiseConfigSchema.optional(),
    exclude: z
      .union([z.string().min(1), z.array(z.number().int().min(0)).min(1)])
      .nullable()
      .optional(),
    exclude_sha256: Sha256.optional(),
    relabel: z.string().min(1).nullable().optional(),
    relabel_sha256: Sha256.optional(),
  })
  .passthrough()
  .superRefine((dataset, ctx) => {
    for (const key of ["exclude", "relabel"] as const) {
      if (dataset[`${key}_sha256`] !== undefined && (dataset[key] === undefined || dataset[key] === null)) {
        ctx.addIssue({ code: "custom", message: `only with dataset.${key}`, path: [`${key}_sha256`] });
      }
    }
  });

/**
 * Keys of a model config that say how the network starts and trains, not what it is: pretrained
 * start weights (`weights`: a safetensors state_dict; `weights_strict` false skips tensors of
 * another shape or name, e.g. a replaced head; `weights_sha256`: the file's fingerprint, filled in
 * when a run starts and compared when a finished run would be reused) and `freeze` (parameter-name
 * prefixes the optimiser never updates). They are no architecture parameter (not in the
 * NetworkSpec) and no part of the run name; they are part of config.yaml and so of the reuse check.
 */
export const MODEL_INIT_KEYS = ["weights", "weights_strict", "weights_sha256", "freeze"] as const;

export const ModelConfigSchema = z
  .object({
    id: Id,
    type: Id,
    weights: z.string().min(1).optional(),
    weights_strict: z.boolean().optional(),
    weights_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "expected the file's sha256 (64 lowercase hex digits)")
      .optional(),
    freeze: z.array(z.string().min(1)).optional(),
  })
  .passthrough()
  .superRefine((model, ctx) => {
    if (model.weights !== undefined) return;
    for (const key of ["weights_strict", "weights_sha256"] as const) {
      if (model[key] !== undefined) {
        ctx.addIssue({ code: "custom", message: "only with model.weights", path: [key] });
      }
    }
  });

export const OptimizerConfigSchema = z
  .object({
    id: Id,
    type: z.enum(["Adam", "AdamW", "SGD"]),
    momentum: z.number().min(0).optional(),
    nesterov: z.boolean().optional(),
    weight_decay: z.number().min(0).optional(),
    beta1: z.number().optional(),
    beta2: z.number().optional(),
    epsilon: z.number().optional(),
  })
  .passthrough();

export const SchedulerConfigSchema = z
  .object({
    id: Id,
    type: z.enum(["None", "StepLR", "Cosine"]),
    /** StepLR: multiply the rate by gamma every step_size evaluations. */
    step_size: z.number().int().positive().optional(),
    gamma: z.number().positive().optional(),
    /** Cosine: the rate at the last iteration. */
    eta_min: z.number().min(0).optional(),
  })
  .passthrough();

export const AugmentationConfigSchema = z.object({ id: Id }).passthrough();

export const ScoringRefSchema = z.object({ id: Id, type: z.string().optional() }).passthrough();

export const PacingConfigSchema = z
  .object({
    id: Id,
    type: z.string().optional(),
    initial_size: z.number(),
    final_iteration: z.number(),
  })
  .passthrough();

/** The class-aware sampling modes of the orderings (src/curriculum/class-quotas.ts). */
export const CLASS_SAMPLING_IDS = ["None", "Unbalanced", "Balanced", "Original"] as const;

/**
 * `curriculum.sampling`: a class-aware sampling mode of an ordering (Curriculum, AntiCurriculum,
 * RandomCurriculum, None), or with `curriculum.type: Dynamic` a dynamic sampler (a built-in id such
 * as InfoBatch, or `module` + `class` of a user's sampler, with its keyword arguments).
 */
export const SamplingConfigSchema = z.object({ id: Id, short: z.string() }).passthrough();

/**
 * The orderings of a curriculum (`curriculum.type`): how score ranks become a training order
 * (src/curriculum/ordering.ts), in the order a comparison lists them. `None` trains without one.
 */
export const CURRICULUM_TYPES = ["Curriculum", "AntiCurriculum", "RandomCurriculum"] as const;
export type CurriculumType = (typeof CURRICULUM_TYPES)[number];

/**
 * `curriculum.type: Dynamic` trains with a stateful sampler that chooses each pass from the
 * training outputs (src/curriculum/sampling/): no pacing, a score only where the sampler says so.
 */
export const DYNAMIC_CURRICULUM = "Dynamic";

export const CurriculumConfigSchema = z
  .object({
    id: Id,
    type: z.enum(["None", ...CURRICULUM_TYPES, DYNAMIC_CURRICULUM]),
    short: z.string(),
    scoring: ScoringRefSchema,
    pacing: PacingConfigSchema,
    sampling: SamplingConfigSchema,
    /**
     * Re-scores the curriculum every N evaluations from the run's own saved train outputs and
     * reorders it from then on (src/curriculum/rescore.ts); absent or null: the order stays the
     * score file's. Only an ordering (Curriculum, AntiCurriculum, RandomCurriculum) has one.
     */
    rescore_every: z.number().int().positive().nullable().optional(),
  })
  .passthrough()
  .superRefine((c, ctx) => {
    if (c.rescore_every != null && !(CURRICULUM_TYPES as readonly string[]).includes(c.type)) {
      ctx.addIssue({
        code: "custom",
        path: ["rescore_every"],
        message: `only an ordering (${CURRICULUM_TYPES.join(", ")}) re-scores its curriculum; curriculum ${c.type} has none to reorder (remove the key or set it to null)`,
      });
    }
    const classAware = (CLASS_SAMPLING_IDS as readonly string[]).includes(c.sampling.id);
    if (c.type !== DYNAMIC_CURRICULUM && !classAware) {
      ctx.addIssue({
        code: "custom",
        path: ["sampling", "id"],
        message: `curriculum ${c.type} takes a class-aware sampling (${CLASS_SAMPLING_IDS.join(", ")}), got '${c.sampling.id}' (a dynamic sampler needs curriculum=Dynamic)`,
      });
    }
    if (c.type === DYNAMIC_CURRICULUM && classAware) {
      ctx.addIssue({
        code: "custom",
        path: ["sampling", "id"],
        message: `curriculum Dynamic takes a dynamic sampler (e.g. curriculum/sampling=InfoBatch, or module + class of your own), got '${c.sampling.id}'`,
      });
    }
  });

/** The `plotting` group (autrainer's plot settings); its keys are open (plot libraries differ). */
export const PlottingConfigSchema = z
  .object({
    figsize: z.array(z.number()).optional(),
    filetypes: z.array(z.string()).optional(),
    replace_none: z.boolean().optional(),
    add_titles: z.boolean().optional(),
    add_xlabels: z.boolean().optional(),
    add_ylabels: z.boolean().optional(),
    max_runs: z.number().int().positive().nullable().optional(),
  })
  .passthrough();

/**
 * Keys of the optimiser and scheduler configs by `type` (besides `id` and `type`): SGD's
 * `momentum` on Adam, say, is an unknown key, not a setting that is silently ignored.
 */
export const OPTIMIZER_KEYS: Readonly<Record<string, readonly string[]>> = {
  Adam: ["weight_decay", "beta1", "beta2", "epsilon"],
  AdamW: ["weight_decay", "beta1", "beta2", "epsilon"],
  SGD: ["momentum", "nesterov", "weight_decay"],
};
export const SCHEDULER_KEYS: Readonly<Record<string, readonly string[]>> = {
  None: [],
  StepLR: ["step_size", "gamma"],
  Cosine: ["eta_min"],
};

/** The per-type keys this module declares (optimiser, scheduler), for the unknown-key check. */
export function schemaKeyCatalog(group: string, type: string): readonly string[] | undefined {
  if (group === "optimizer") return OPTIMIZER_KEYS[type];
  if (group === "scheduler") return SCHEDULER_KEYS[type];
  return undefined;
}

export const NONE_CURRICULUM = {
  id: "None",
  type: "None",
  short: "N",
  scoring: { id: "None", type: "None" },
  pacing: { id: "None", type: "None", initial_size: 1, final_iteration: 0 },
  sampling: { id: "None", short: "N" },
} as const;

/** The formats `curricula import` reads (src/results/recorded-run.ts). */
export const IMPORT_FORMATS = ["npy", "cartography", "csv"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/**
 * `imported` in a run's config.yaml: the run was not trained here but imported from the outputs
 * another training loop recorded (`curricula import`). It holds no model, so model-based scores and
 * a resume refuse it; the fingerprints of the files read are its provenance.
 */
export const ImportRecordSchema = z
  .object({
    format: z.enum(IMPORT_FORMATS),
    /** The folder or file imported (absolute). */
    source: z.string().min(1),
    /** SHA-256 of every file read, by its path relative to `source` (the file name for one file). */
    files: z.record(z.string(), z.string()),
  })
  .strict();
export type ImportRecord = z.infer<typeof ImportRecordSchema>;

export const RunConfigSchema = z
  .object({
    results_dir: z.string().default("results"),
    experiment_id: Id.refine(
      (s) => !s.includes("_"),
      "must not contain '_' (run names are split on '_')",
    ).superRefine(pathIdRefinement),
    /**
     * An integer, or "T-D": training seed T and data-order seed D (the shuffles of each pass, the
     * curriculum sampler's draws, CVLoss folds); "T-T" is the integer T (one run, one name).
     */
    seed: z.union([z.number().int(), z.string().regex(/^\d+(-\d+)?$/)]).transform(canonicalSeed),
    batch_size: z.number().int().positive(),
    inference_batch_size: z.number().int().positive().default(256),
    learning_rate: z.number().positive(),
    training_type: z.enum(["epoch", "step"]).default("epoch"),
    iterations: z.number().int().positive(),
    eval_frequency: z.number().int().positive().default(1),
    save_frequency: z.number().int().positive().default(1),
    progress_bar: z.boolean().default(true),
    save_train_outputs: z.boolean().default(true),
    save_dev_outputs: z.boolean().default(true),
    save_test_outputs: z.boolean().default(true),
    /**
     * β of the online trackers' loss EMA (ema ← β·ema + (1 − β)·loss per attempt;
     * src/training/trackers.ts). Changes only the tracker tables, not the training.
     */
    tracker_ema: z.number().gt(0).lt(1).default(0.9),
    dataset: DatasetConfigSchema,
    model: ModelConfigSchema,
    optimizer: OptimizerConfigSchema,
    scheduler: SchedulerConfigSchema.default({ id: "None", type: "None" }),
    augmentation: AugmentationConfigSchema.default({ id: "None" }),
    curriculum: CurriculumConfigSchema.default(structuredClone(NONE_CURRICULUM) as never),
    /**
     * How the run is computed (none of them enters the run name): the engine (auto, the default =
     * torch when it is built and loads, else wasm; the run's config.yaml holds the resolved engine,
     * which the comparison with a saved config includes), the
     * device (torch only) and libtorch's thread count (auto = this process's share of the cores,
     * src/engine/threads.ts; wasm always computes on one, its share sizes the k-NN's workers).
     */
    engine: z.enum(["auto", "wasm", "torch"]).default("auto"),
    device: z
      .string()
      .regex(/^(cpu|cuda|cuda:\d+)$/, "expected cpu, cuda or cuda:N")
      .default("cpu"),
    threads: z
      .union([z.literal("auto"), z.number().int().positive()])
      .nullable()
      .default("auto"),
    /** Plot settings (the `plotting` group), kept with the run; read by postprocess and the report. */
    plotting: PlottingConfigSchema.optional(),
    /** Cluster resources of a SLURM sweep (checked by the SLURM executor; not part of the run). */
    slurm: z.record(z.string(), z.unknown()).optional(),
    /** Set on runs made by `curricula import` (no model; see ImportRecordSchema). */
    imported: ImportRecordSchema.optional(),
  })
  .passthrough();

export type DatasetConfig = z.infer<typeof DatasetConfigSchema>;
export type ModelConfig = z.infer<typeof ModelConfigSchema>;
export type OptimizerConfig = z.infer<typeof OptimizerConfigSchema>;
export type SchedulerConfig = z.infer<typeof SchedulerConfigSchema>;
export type CurriculumConfig = z.infer<typeof CurriculumConfigSchema>;
export type PacingConfig = z.infer<typeof PacingConfigSchema>;
export type RunConfig = z.infer<typeof RunConfigSchema>;

/** True for loss columns (`loss`, `dev_loss`, `train_loss`): lower is better, higher for every other metric. */
export function isLoss(metric: string): boolean {
  return metric.endsWith("loss");
}

/** A seed in its one spelling: "T-D" with T = D is the integer T (`seed=1` and `seed=1-1` are one run). */
export function canonicalSeed(seed: number | string): number | string {
  if (typeof seed === "number") return seed;
  if (/^\d+$/.test(seed)) return Number(seed);
  const m = /^(\d+)-(\d+)$/.exec(seed);
  return m && Number(m[1]) === Number(m[2]) ? Number(m[1]) : seed;
}

/**
 * A saved run config as this version reads it. Runs written before datasets had `split_seed` were
 * split with their seed's data seed: that is their `split_seed` (so such a run with data seed 1
 * matches a new one, and any other is told apart instead of being taken for a run on the same data).
 */
export function upgradeSavedConfig(raw: unknown): unknown {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const config = raw as Record<string, unknown>;
  const dataset = config.dataset;
  if (!dataset || typeof dataset !== "object" || Array.isArray(dataset) || "split_seed" in dataset)
    return raw;
  const seed = config.seed;
  if (typeof seed !== "number" && (typeof seed !== "string" || !/^\d+-\d+$/.test(seed))) return raw;
  return { ...config, dataset: { ...dataset, split_seed: parseSeed(seed).data } };
}

/** Splits a seed into training seed and data-order seed ("T-D" or one integer for both). */
export function parseSeed(seed: RunConfig["seed"]): { train: number; data: number } {
  if (typeof seed === "number") return { train: seed, data: seed };
  const [t, d] = seed.split("-").map(Number) as [number, number];
  return { train: t, data: d };
}
