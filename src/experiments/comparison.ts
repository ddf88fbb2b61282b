import { join } from "node:path";
import { SUMMARY_FILES } from "../config/layout.js";
import { aggregatedName, NAMING_KEYS, type NamingKey, parseRunName } from "../config/naming.js";
import { isLoss } from "../config/schema.js";
import { writeCsv } from "../util/csv.js";
import { UsageError } from "../util/errors.js";
import { bootstrapInterval, comparePaired, holm, type PairedComparison } from "../util/paired.js";

/**
 * Paired comparisons of an experiment's conditions over seeds (summary/comparison.csv and
 * summary/compute.csv). Runs that differ only in the `by` naming fields (default: the curriculum's
 * six fields) form one context; within it each condition is compared with the reference condition
 * (default: the baseline, `curriculum` N) on the seeds both ran, with the statistics of
 * util/paired.ts. Holm's correction runs over every comparison of one metric in the table.
 */

/** One finished run as the comparison reads it: its name, metrics.csv rows, test results and config. */
export interface ComparedRun {
  name: string;
  rows: ReadonlyArray<Record<string, unknown>>;
  test: Record<string, unknown>;
  config: Record<string, unknown>;
}

export const CURRICULUM_KEYS: readonly NamingKey[] = NAMING_KEYS.filter(
  (k) => k === "curriculum" || k.startsWith("curriculum."),
);

export interface ComparisonOptions {
  /** The naming fields that make a condition (default: the curriculum's). */
  by?: readonly string[];
  /** The reference condition: its label (the `by` fields joined by `_`), or its name; default the baseline. */
  reference?: string;
  /** Only these metrics (`accuracy` or `test_accuracy`). */
  metrics?: readonly string[];
  /** Seeds the bootstrap intervals. */
  seed?: number;
}

export interface ComparisonRow extends PairedComparison {
  context: string;
  reference: string;
  condition: string;
  referenceName: string;
  conditionName: string;
  metric: string;
  seeds: string[];
  referenceMean: number;
  conditionMean: number;
  /** Holm-adjusted p over the comparisons of this metric in the table. */
  pHolm: number;
}

export interface ComputeRow {
  context: string;
  reference: string;
  condition: string;
  referenceName: string;
  conditionName: string;
  /** The dev metric followed (`dev_accuracy`). */
  metric: string;
  /** Seeds run in both conditions, and those whose condition run reached the target. */
  n: number;
  reached: number;
  /** Mean over the reaching seeds of samples_seen(condition) / samples_seen(reference) to the target. */
  ratio: number;
  low: number;
  high: number;
  note: string;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function allValue(entry: unknown): number {
  if (typeof entry === "number") return entry;
  const v = asRecord(entry).all;
  return typeof v === "number" ? v : Number.NaN;
}

/** A readable name of a condition: "Baseline", "Curriculum (CELoss, Linear 0.2→0.8, Balanced)", or the label. */
function conditionName(run: ComparedRun, by: readonly string[], label: string): string {
  if (!by.includes("curriculum")) return label;
  const c = asRecord(run.config.curriculum);
  if (c.type === "None" || c.id === "None") return "Baseline";
  const scoring = asRecord(c.scoring).id;
  const pacing = asRecord(c.pacing);
  const sampling = asRecord(c.sampling).id;
  const parts = [
    scoring,
    pacing.id !== undefined ? `${pacing.id} ${pacing.initial_size}→${pacing.final_iteration}` : undefined,
    sampling,
  ].filter((p) => p !== undefined && p !== "None");
  return `${String(c.id ?? c.type)}${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`;
}

interface Condition {
  label: string;
  name: string;
  bySeed: Map<string, ComparedRun>;
}

/** Groups runs into contexts (every naming field but `by` and seed) and conditions (the `by` fields). */
function groupConditions(
  runs: readonly ComparedRun[],
  by: readonly string[],
): Map<string, Map<string, Condition>> {
  const contexts = new Map<string, Map<string, Condition>>();
  for (const run of runs) {
    const fields = parseRunName(run.name);
    const context = aggregatedName(run.name, [...by, "seed"]);
    const label = by.map((k) => fields[k as NamingKey]).join("_");
    const conditions = contexts.get(context) ?? new Map<string, Condition>();
    contexts.set(context, conditions);
    const condition = conditions.get(label) ?? {
      label,
      name: conditionName(run, by, label),
      bySeed: new Map(),
    };
    conditions.set(label, condition);
    condition.bySeed.set(fields.seed, run);
  }
  return contexts;
}

function referenceOf(
  conditions: Map<string, Condition>,
  by: readonly string[],
  reference?: string,
): Condition | undefined {
  const all = [...conditions.values()];
  if (reference !== undefined) return all.find((c) => c.label === reference || c.name === reference);
  if (by[0] === "curriculum") return all.find((c) => c.label.split("_")[0] === "N");
  return undefined;
}

function checkBy(by: readonly string[]): void {
  for (const key of by) {
    if (!(NAMING_KEYS as readonly string[]).includes(key) || key === "seed" || key === "training_type") {
      throw new UsageError(
        `--by ${key}: expected naming keys other than seed and training_type (${NAMING_KEYS.filter((k) => k !== "seed" && k !== "training_type").join(", ")})`,
      );
    }
  }
}

/**
 * Refuses a chosen reference (`options.reference`) that names no condition of any context, listing
 * the conditions there are (label and name), so that a typo is an error rather than an empty table.
 */
export function checkReference(runs: readonly ComparedRun[], options: ComparisonOptions = {}): void {
  if (options.reference === undefined) return;
  const by = options.by && options.by.length > 0 ? options.by : CURRICULUM_KEYS;
  checkBy(by);
  const known = new Map<string, string>();
  for (const conditions of groupConditions(runs, by).values()) {
    if (referenceOf(conditions, by, options.reference)) return;
    for (const c of conditions.values()) known.set(c.label, c.name);
  }
  const listed = [...known].map(([label, name]) => (label === name ? label : `${label} (${name})`));
  throw new UsageError(
    `--reference ${options.reference}: no condition of the experiment has this label or name; expected one of: ${listed.join("; ") || "(no finished runs)"}`,
  );
}

/** Every paired comparison and compute-to-target row of an experiment's finished runs. */
export function compareRuns(
  runs: readonly ComparedRun[],
  options: ComparisonOptions = {},
): { comparisons: ComparisonRow[]; compute: ComputeRow[]; unmatched: string[] } {
  const by = options.by && options.by.length > 0 ? options.by : CURRICULUM_KEYS;
  checkBy(by);
  const wanted = options.metrics?.map((m) => (m.startsWith("test_") ? m : `test_${m}`));
  const comparisons: ComparisonRow[] = [];
  const compute: ComputeRow[] = [];
  const unmatched: string[] = [];
  for (const [context, conditions] of groupConditions(runs, by)) {
    const ref = referenceOf(conditions, by, options.reference);
    if (!ref) {
      if (conditions.size > 1) unmatched.push(context);
      continue;
    }
    for (const condition of conditions.values()) {
      if (condition === ref) continue;
      const seeds = [...condition.bySeed.keys()].filter((s) => ref.bySeed.has(s)).sort();
      const pairs = seeds.map((s) => [
        ref.bySeed.get(s) as ComparedRun,
        condition.bySeed.get(s) as ComparedRun,
      ]);
      const base = {
        context,
        reference: ref.label,
        condition: condition.label,
        referenceName: ref.name,
        conditionName: condition.name,
      };
      const metricKeys = [...new Set(pairs.flatMap(([a]) => Object.keys(asRecord(a?.test))))];
      for (const key of metricKeys) {
        const metric = `test_${key}`;
        if (wanted && !wanted.includes(metric)) continue;
        const x = pairs.map(([a]) => allValue(asRecord(a?.test)[key]));
        const y = pairs.map(([, b]) => allValue(asRecord(b?.test)[key]));
        const stats = comparePaired(x, y, { seed: options.seed ?? 0 });
        comparisons.push({
          ...base,
          ...stats,
          metric,
          seeds,
          referenceMean: mean(x),
          conditionMean: mean(y),
          pHolm: Number.NaN,
        });
      }
      compute.push({
        ...base,
        ...computeToTarget(pairs as Array<[ComparedRun, ComparedRun]>, options.seed ?? 0),
      });
    }
  }
  for (const metric of new Set(comparisons.map((c) => c.metric))) {
    const rows = comparisons.filter((c) => c.metric === metric);
    holm(rows.map((r) => r.p)).forEach((p, i) => {
      (rows[i] as ComparisonRow).pHolm = p;
    });
  }
  return { comparisons, compute, unmatched };
}

function mean(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length > 0 ? finite.reduce((a, b) => a + b, 0) / finite.length : Number.NaN;
}

function trackingMetric(run: ComparedRun): string {
  const m = asRecord(run.config.dataset).tracking_metric;
  return typeof m === "string" ? m : "accuracy";
}

/** samples_seen at the first evaluation whose `metric` reaches `target` (null: never, NaN: not recorded). */
export function samplesToReach(
  rows: ReadonlyArray<Record<string, unknown>>,
  metric: string,
  target: number,
): number | null {
  const lower = isLoss(metric);
  const sorted = [...rows].sort((a, b) => Number(a.iteration) - Number(b.iteration));
  for (const row of sorted) {
    const v = Number(row[metric]);
    if (lower ? v <= target : v >= target) {
      const s = row.samples_seen;
      return typeof s === "number" && Number.isFinite(s) ? s : Number.NaN;
    }
  }
  return null;
}

function best(rows: ReadonlyArray<Record<string, unknown>>, metric: string): number {
  const values = rows.map((r) => Number(r[metric])).filter((v) => Number.isFinite(v));
  if (values.length === 0) return Number.NaN;
  return isLoss(metric) ? Math.min(...values) : Math.max(...values);
}

/**
 * Per seed: the samples the condition's run saw until its dev tracking metric first reached the
 * reference run's best, over the samples the reference run saw until it did; the mean ratio over
 * the seeds that reached it, with a bootstrap percentile interval.
 */
function computeToTarget(
  pairs: ReadonlyArray<[ComparedRun, ComparedRun]>,
  seed: number,
): Pick<ComputeRow, "metric" | "n" | "reached" | "ratio" | "low" | "high" | "note"> {
  const metric = pairs[0] ? trackingMetric(pairs[0][0]) : "accuracy";
  const ratios: number[] = [];
  let unrecorded = 0;
  for (const [ref, cond] of pairs) {
    const target = best(ref.rows, metric);
    const a = samplesToReach(ref.rows, metric, target);
    const b = samplesToReach(cond.rows, metric, target);
    if (b === null) continue;
    if (a === null || Number.isNaN(a) || Number.isNaN(b) || a === 0) {
      unrecorded++;
      continue;
    }
    ratios.push(b / a);
  }
  const { low, high } = bootstrapInterval(ratios, { seed });
  const n = pairs.length;
  let note = "";
  if (unrecorded > 0) note = `${unrecorded} seed(s) without samples_seen (runs of an earlier version)`;
  else if (ratios.length === 0 && n > 0) note = "never reaches the reference's best";
  else if (ratios.length === 1) note = "one seed only: no interval";
  return {
    metric: `dev_${metric}`,
    n,
    reached: ratios.length + unrecorded,
    ratio: mean(ratios),
    low,
    high,
    note,
  };
}

/** A CSV column and the value of a row it holds. */
type Column<R> = readonly [name: string, value: (row: R) => unknown];

/** The columns that say what is compared, first in both tables. */
const PAIR_COLUMNS: readonly Column<ComparisonRow | ComputeRow>[] = [
  ["context", (r) => r.context],
  ["reference", (r) => r.reference],
  ["condition", (r) => r.condition],
  ["reference_name", (r) => r.referenceName],
  ["condition_name", (r) => r.conditionName],
  ["metric", (r) => r.metric],
  ["n", (r) => r.n],
];

const COMPARISON_TABLE: readonly Column<ComparisonRow>[] = [
  ...PAIR_COLUMNS,
  ["seeds", (r) => r.seeds.join(" ")],
  ["reference_mean", (r) => r.referenceMean],
  ["condition_mean", (r) => r.conditionMean],
  ["mean_difference", (r) => r.meanDifference],
  ["ci_low", (r) => r.low],
  ["ci_high", (r) => r.high],
  ["p_value", (r) => r.p],
  ["p_holm", (r) => r.pHolm],
  ["p_method", (r) => r.pMethod],
  ["d_z", (r) => r.dz],
  ["min_p", (r) => r.minP],
  ["seeds_needed", (r) => r.seedsNeeded],
  ["note", (r) => r.note],
];

const COMPUTE_TABLE: readonly Column<ComputeRow>[] = [
  ...PAIR_COLUMNS,
  ["reached", (r) => r.reached],
  ["samples_ratio", (r) => r.ratio],
  ["ci_low", (r) => r.low],
  ["ci_high", (r) => r.high],
  ["note", (r) => r.note],
];

function writeTable<R>(path: string, table: readonly Column<R>[], rows: readonly R[]): void {
  writeCsv(
    path,
    table.map(([name]) => name),
    rows.map((row) => Object.fromEntries(table.map(([name, value]) => [name, value(row)]))),
  );
}

/** Writes summary/comparison.csv and summary/compute.csv; returns what it wrote. */
export function writeComparison(
  runs: readonly ComparedRun[],
  summaryDir: string,
  options: ComparisonOptions = {},
): ReturnType<typeof compareRuns> & { paths: string[] } {
  const result = compareRuns(runs, options);
  const comparisonPath = join(summaryDir, SUMMARY_FILES.comparison);
  const computePath = join(summaryDir, SUMMARY_FILES.compute);
  writeTable(comparisonPath, COMPARISON_TABLE, result.comparisons);
  writeTable(computePath, COMPUTE_TABLE, result.compute);
  return { ...result, paths: [comparisonPath, computePath] };
}

// ---------------------------------------------------------------------------------------------
// Plain-language lines (the terminal and the report say the same)

function signed(value: number, digits: number): string {
  const text = Math.abs(value).toFixed(digits);
  return value < 0 && Number(text) !== 0 ? `−${text}` : value > 0 && Number(text) !== 0 ? `+${text}` : text;
}

function formatP(p: number): string {
  if (!Number.isFinite(p)) return "n/a";
  return p < 0.001 ? p.toExponential(1) : String(Number(p.toPrecision(2)));
}

/** Accuracy-like metrics in [0, 1] are given in points (×100); losses as they are. */
function inPoints(metric: string): boolean {
  return !isLoss(metric);
}

/** "Curriculum vs Baseline: −2.5 points of test accuracy [−3.4, −1.6], p = 0.25 — 3 seeds cannot reach p < 0.25; …". */
export function verdictLine(row: ComparisonRow): string {
  const points = inPoints(row.metric);
  const scale = points ? 100 : 1;
  const digits = points ? 1 : 3;
  const what = `${points ? "points of " : ""}${row.metric.replace(/^test_/, "test ").replace(/_/g, " ")}`;
  const head = `${row.conditionName} vs ${row.referenceName}: ${signed(row.meanDifference * scale, digits)} ${what}`;
  if (row.n === 0) return `${head}: ${row.note}`;
  if (row.n === 1) return `${head} (${row.note})`;
  const interval = `[${signed(row.low * scale, digits)}, ${signed(row.high * scale, digits)}]`;
  let tail = `p = ${formatP(row.p)}`;
  if (row.pHolm !== row.p && Number.isFinite(row.pHolm)) tail += ` (Holm ${formatP(row.pHolm)})`;
  const notes: string[] = [];
  if (row.minP > 0.05) notes.push(`${row.n} seeds cannot reach p < ${formatP(row.minP)}`);
  if (row.seedsNeeded === Number.POSITIVE_INFINITY) notes.push("no difference to detect");
  else if (Number.isFinite(row.seedsNeeded) && row.seedsNeeded > row.n)
    notes.push(`about ${row.seedsNeeded} seeds would detect an effect of this size`);
  else if (row.p <= 0.05) notes.push(`detected with ${row.n} seeds`);
  return `${head} ${interval}, ${tail}${notes.length > 0 ? ` — ${notes.join("; ")}` : ""}`;
}

/** "Curriculum reaches Baseline's best dev accuracy with 0.64× the samples [0.58, 0.71] (3 of 3 seeds)". */
export function computeLine(row: ComputeRow): string {
  const metric = row.metric.replace(/^dev_/, "dev ");
  const head = `${row.conditionName} vs ${row.referenceName}`;
  if (row.n === 0) return `${head}: no seed ran in both conditions`;
  if (row.reached === 0)
    return `${head}: never reaches ${row.referenceName}'s best ${metric} (0 of ${row.n} seeds)`;
  if (!Number.isFinite(row.ratio)) return `${head}: ${row.note}`;
  const interval = Number.isFinite(row.low) ? ` [${row.low.toFixed(2)}, ${row.high.toFixed(2)}]` : "";
  return `${head}: reaches ${row.referenceName}'s best ${metric} with ${row.ratio.toFixed(2)}× the samples${interval} (${row.reached} of ${row.n} seeds)${row.note ? `; ${row.note}` : ""}`;
}
