import { ensembleSizeFile } from "../config/layout.js";
import { lineChart } from "../plots/charts.js";
import { renderPlot } from "../plots/render.js";
import { averageRanks, pearson } from "../training/measures/ranks.js";
import { writeCsv } from "../util/csv.js";
import { Rng } from "../util/rng.js";
import { meanStd } from "../util/stats.js";
import type { AbstractScore, AtomicRun } from "./abstract-score.js";
import { kendallTauB } from "./math/correlation.js";

/**
 * Seed robustness of a score (the aucurriculum paper's finding that scores depend on the seed and
 * ensembles fix it partly): how well the per-run scores of an ensemble agree with each other, and how
 * the agreement of two disjoint sub-ensembles grows with their size. Per-run scores are what the
 * score's own `postprocess` makes of one run (so CumulativeAccuracy pools its sums and counts, and
 * CVLoss folds count as one run), oriented hard-is-high, and correlated with ties as ties, as the
 * correlation matrix does. Samples whose score is NaN in any run are left out.
 */

export interface RobustnessOptions {
  /** Bootstrap resamples (over samples) of the 95% interval; default 1000. */
  bootstrap?: number;
  /** Seed of the bootstrap and of sub-ensemble sampling; default 0. */
  seed?: number;
  /** Sub-ensemble pairs per size k at most (sampled when there are more); default 20. */
  maxPairs?: number;
}

/** What the score card records under `robustness`. */
export interface RobustnessCard {
  /** Mean over run pairs of the Spearman correlation of their per-run scores. */
  spearman_mean: number;
  /** Percentile 95% interval of spearman_mean over bootstrap resamples of the samples. */
  spearman_ci95: [number, number];
  /** Mean over run pairs of Kendall's tau-b. */
  kendall_mean: number;
  /** Number of run pairs. */
  pairs: number;
  runs: number;
  bootstrap: number;
  /** Samples used (those with a score in every run). */
  samples: number;
}

/** One row of the ensemble-size curve. */
export interface EnsembleSizeRow {
  k: number;
  pairs: number;
  spearman_mean: number;
  spearman_std: number;
}

/** Keeps the samples that every column scores (no NaN). */
export function completeCases(columns: readonly Float64Array[]): Float64Array[] {
  const n = columns[0]?.length ?? 0;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (columns.every((c) => !Number.isNaN(c[i] as number))) keep.push(i);
  if (keep.length === n) return [...columns];
  return columns.map((c) => Float64Array.from(keep, (i) => c[i] as number));
}

/** Spearman with average ranks for ties (scipy.stats.spearmanr). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(averageRanks(a), averageRanks(b));
}

/** Mean over all pairs of columns of a correlation. */
export function meanPairwise(
  columns: readonly ArrayLike<number>[],
  corr: (a: ArrayLike<number>, b: ArrayLike<number>) => number,
): { mean: number; pairs: number } {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < columns.length; i++) {
    for (let j = i + 1; j < columns.length; j++) {
      sum += corr(columns[i] as ArrayLike<number>, columns[j] as ArrayLike<number>);
      pairs++;
    }
  }
  return { mean: pairs > 0 ? sum / pairs : Number.NaN, pairs };
}

/** The sort order of a column and the [start, end) blocks of equal values in it. */
interface SortedColumn {
  order: Int32Array;
  blockEnds: Int32Array;
}

function sortColumn(values: ArrayLike<number>): SortedColumn {
  const order = Int32Array.from({ length: values.length }, (_, i) => i).sort(
    (x, y) => (values[x] as number) - (values[y] as number),
  );
  const ends: number[] = [];
  for (let p = 1; p <= order.length; p++) {
    if (p === order.length || values[order[p] as number] !== values[order[p - 1] as number]) ends.push(p);
  }
  return { order, blockEnds: Int32Array.from(ends) };
}

/**
 * Average ranks of a resample given as multiplicities `w` (sample i drawn w[i] times): a block of
 * equal values with total multiplicity W after C earlier draws gets rank C + (W + 1)/2, exactly what
 * ranking the materialised resample would give each copy.
 */
function resampledRanks(column: SortedColumn, w: Int32Array, out: Float64Array): void {
  let before = 0;
  let start = 0;
  for (const end of column.blockEnds) {
    let weight = 0;
    for (let p = start; p < end; p++) weight += w[column.order[p] as number] as number;
    const rank = before + (weight + 1) / 2;
    for (let p = start; p < end; p++) out[column.order[p] as number] = rank;
    before += weight;
    start = end;
  }
}

/** Pearson correlation of two columns with multiplicities (the correlation of the materialised resample). */
function weightedPearson(a: Float64Array, b: Float64Array, w: Int32Array): number {
  let total = 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < w.length; i++) {
    const wi = w[i] as number;
    if (wi === 0) continue;
    total += wi;
    ma += wi * (a[i] as number);
    mb += wi * (b[i] as number);
  }
  ma /= total;
  mb /= total;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < w.length; i++) {
    const wi = w[i] as number;
    if (wi === 0) continue;
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += wi * da * db;
    saa += wi * da * da;
    sbb += wi * db * db;
  }
  if (saa === 0 || sbb === 0) return Number.NaN;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}

/**
 * Mean pairwise Spearman correlation on each resample. `resamples` are multiplicity vectors (w[i] =
 * how often sample i is drawn, Σw = n); each costs O(n) per column and pair, without sorting again.
 */
export function resampledMeanSpearman(
  columns: readonly Float64Array[],
  resamples: Iterable<Int32Array>,
): Float64Array {
  const sorted = columns.map(sortColumn);
  const n = columns[0]?.length ?? 0;
  const ranks = columns.map(() => new Float64Array(n));
  const out: number[] = [];
  for (const w of resamples) {
    sorted.forEach((s, r) => {
      resampledRanks(s, w, ranks[r] as Float64Array);
    });
    let sum = 0;
    let pairs = 0;
    for (let i = 0; i < columns.length; i++) {
      for (let j = i + 1; j < columns.length; j++) {
        sum += weightedPearson(ranks[i] as Float64Array, ranks[j] as Float64Array, w);
        pairs++;
      }
    }
    out.push(sum / pairs);
  }
  return Float64Array.from(out);
}

/** `count` seeded bootstrap resamples of n samples, as multiplicity vectors. */
export function* bootstrapResamples(n: number, count: number, seed: number): Generator<Int32Array> {
  const rng = Rng.derive(seed, "robustness-bootstrap");
  const w = new Int32Array(n);
  for (let b = 0; b < count; b++) {
    w.fill(0);
    for (let i = 0; i < n; i++) {
      const k = rng.int(n);
      w[k] = (w[k] as number) + 1;
    }
    yield w;
  }
}

/** numpy's default (linear) percentile of sorted-on-the-fly values, q in [0, 100]. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values)
    .filter((v) => !Number.isNaN(v))
    .sort();
  if (sorted.length === 0) return Number.NaN;
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return (sorted[lo] as number) + (pos - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

/** The robustness card of per-run scores (already oriented hard-is-high). */
export function robustnessOf(
  perRun: readonly Float64Array[],
  options: RobustnessOptions = {},
): RobustnessCard {
  if (perRun.length < 2) throw new Error("robustness needs at least two runs");
  const columns = completeCases(perRun);
  const bootstrap = options.bootstrap ?? 1000;
  const n = columns[0]?.length ?? 0;
  const { mean, pairs } = meanPairwise(columns, spearman);
  const boot =
    bootstrap > 0 && n > 1
      ? resampledMeanSpearman(columns, bootstrapResamples(n, bootstrap, options.seed ?? 0))
      : new Float64Array(0);
  return {
    spearman_mean: mean,
    spearman_ci95: [percentile(boot, 2.5), percentile(boot, 97.5)],
    kendall_mean: meanPairwise(columns, kendallTauB).mean,
    pairs,
    runs: perRun.length,
    bootstrap,
    samples: n,
  };
}

/** Unordered pairs of disjoint k-subsets of 0..r−1: all of them, or `max` seeded random ones. */
export function disjointPairs(r: number, k: number, max: number, seed: number): [number[], number[]][] {
  const subsets = combinations(r, k);
  const all: [number[], number[]][] = [];
  for (const a of subsets) {
    for (const b of subsets) {
      if ((a[0] as number) < (b[0] as number) && a.every((x) => !b.includes(x))) all.push([a, b]);
    }
  }
  if (all.length <= max) return all;
  const rng = Rng.derive(seed, `ensemble-size-${k}`);
  return Array.from(rng.permutation(all.length).subarray(0, max), (i) => all[i] as [number[], number[]]);
}

function combinations(r: number, k: number): number[][] {
  const out: number[][] = [];
  const pick = (start: number, chosen: number[]) => {
    if (chosen.length === k) {
      out.push([...chosen]);
      return;
    }
    for (let i = start; i < r; i++) pick(i + 1, [...chosen, i]);
  };
  pick(0, []);
  return out;
}

/**
 * The ensemble-size curve: for k = 1 … ⌊r/2⌋, the mean and sample std of the Spearman correlation
 * between the scores of two disjoint k-run sub-ensembles (`ensemble(members)` builds one).
 */
export function ensembleSizeCurve(
  runs: number,
  ensemble: (members: number[]) => Float64Array,
  options: RobustnessOptions = {},
): EnsembleSizeRow[] {
  const rows: EnsembleSizeRow[] = [];
  for (let k = 1; 2 * k <= runs; k++) {
    const values = disjointPairs(runs, k, options.maxPairs ?? 20, options.seed ?? 0).map(([a, b]) => {
      const [x, y] = completeCases([ensemble(a), ensemble(b)]) as [Float64Array, Float64Array];
      return spearman(x, y);
    });
    const { mean, std } = meanStd(values);
    rows.push({ k, pairs: values.length, spearman_mean: mean, spearman_std: std });
  }
  return rows;
}

/** The runs of a score grouped as its postprocess groups them (CVLoss folds of one setup together). */
export function runGroups(runs: readonly AtomicRun[]): AtomicRun[][] {
  const groups = new Map<string, AtomicRun[]>();
  for (const run of runs) {
    const key = run.group ?? run.name;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()];
}

/**
 * Robustness of a score with two or more runs: the card entry, plus the ensemble-size curve written to
 * `<out>/_robustness/<id>_ensemble_size.csv` (and its plot, `.svg`/`.png`). Null for a single run.
 */
export async function writeRobustness(
  scoring: AbstractScore,
  scoreId: string,
  runs: readonly AtomicRun[],
  outputDirectory: string,
  options: RobustnessOptions & { plot?: boolean } = {},
): Promise<{ card: RobustnessCard; curve: string } | null> {
  const groups = runGroups(runs);
  if (groups.length < 2) return null;
  const sign = scoring.reverseScore ? -1 : 1;
  const ensemble = (members: number[]) =>
    Float64Array.from(
      scoring.postprocess(
        scoreId,
        members.flatMap((m) => groups[m] as AtomicRun[]),
      ).mean,
      (v) => sign * v,
    );
  const perRun = groups.map((_, i) => ensemble([i]));
  const card = robustnessOf(perRun, options);
  const rows = ensembleSizeCurve(groups.length, ensemble, options);
  const csv = ensembleSizeFile(outputDirectory, scoreId);
  const base = csv.replace(/\.csv$/, "");
  writeCsv(
    csv,
    ["k", "pairs", "spearman_mean", "spearman_std"],
    rows as unknown as Record<string, unknown>[],
  );
  if (options.plot !== false) {
    await renderPlot(
      lineChart({
        data: rows.map((r) => ({ ...r, score: scoreId })),
        x: "k",
        y: "spearman_mean",
        color: "score",
        title: `${scoreId}: agreement of two disjoint k-run ensembles`,
        xTitle: "runs per ensemble (k)",
        yTitle: "Spearman correlation",
        integerX: true,
        points: true,
        width: 360,
        height: 220,
      }),
      base,
    );
  }
  return { card, curve: csv };
}
