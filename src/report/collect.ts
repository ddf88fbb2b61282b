import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  curriculumDir,
  experimentDir,
  isTemporaryName,
  outputFile,
  RUN_FILES,
  trainingDir,
} from "../config/layout.js";
import {
  CONDITIONS,
  type Condition,
  conditionOfCode,
  NAMING_KEYS,
  type NamingKey,
  tryParseRunName,
} from "../config/naming.js";
import { CURRICULUM_TYPES, type CurriculumType, DYNAMIC_CURRICULUM } from "../config/schema.js";
import { distinctShades } from "../plots/charts.js";
import { type MatrixData, readMatrix } from "../results/correlation-table.js";
import { listRuns } from "../results/experiment.js";
import { metricValues, type NumericTable, readRunFolder } from "../results/run-folder.js";
import { readScoreCard, readScoreRows } from "../results/score-table.js";
import { readSubsetOutputs } from "../results/subset-outputs.js";
import { argmaxRows } from "../training/metrics.js";
import { getPath } from "../util/records.js";

/**
 * Reads an experiment's results folder (layout in docs/architecture.md) into plain data for the
 * report: runs with their metrics, pace and test results; score files; correlation matrices. Nothing
 * here throws on a missing or malformed file: the problem is recorded (naming the file) and the
 * report says so in the section concerned.
 */

/** The four arms of a curriculum comparison (defined with their run-name codes in config/naming.ts). */
export { CONDITIONS, type Condition };

export type MetricsTable = NumericTable;

/** Predicted and true class of every test sample of a run. */
export interface TestPredictions {
  predictions: Int32Array;
  targets: Int32Array;
  numClasses: number;
}

export interface RunData {
  name: string;
  dir: string;
  /** The saved `config.yaml`, or null if missing/unreadable. */
  config: Record<string, unknown> | null;
  /** Naming fields parsed from the run name, or null if the name is not a 16-field run name. */
  fields: Record<NamingKey, string> | null;
  condition: Condition;
  seed: string;
  /** The run name with the seed replaced by `#`: runs differing only in seed share it. */
  groupKey: string;
  /** metrics.csv exists (the run finished). */
  finished: boolean;
  metrics: MetricsTable | null;
  pace: { iteration: number; dataset_size: number }[] | null;
  /** `all` values of `_test/test_holistic.yaml`. */
  test: Record<string, number> | null;
  /** Predicted and true class of every test sample (`_test/test_outputs.npy`, `test_targets.npy`). */
  testOutputs: TestPredictions | null;
  trackingMetric: string;
  /** `epoch` or `step`: what the iterations of metrics.csv and pace.csv count. */
  trainingType: string;
}

export interface ScoreData {
  type: string;
  id: string;
  path: string;
  index: Int32Array;
  sourceIndex: Int32Array;
  mean: Float64Array;
  ranks: Float64Array;
  encoded: Int32Array;
  decoded: string[];
  /** The score card `<id>.yaml` beside the CSV, if any. */
  card: Record<string, unknown> | null;
}

export interface ExperimentData {
  resultsDir: string;
  experimentId: string;
  dir: string;
  runs: RunData[];
  scores: ScoreData[];
  matrices: MatrixData[];
  /** Files that exist but could not be read, with the reason. */
  problems: string[];
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Condition of a run: from its config's `curriculum.type`, else from the name's short code. */
export function conditionOf(
  config: Record<string, unknown> | null,
  fields: Record<NamingKey, string> | null,
): Condition {
  const type = getPath(config, "curriculum.type");
  if (CURRICULUM_TYPES.some((t) => t === type)) return type as CurriculumType;
  if (type === DYNAMIC_CURRICULUM) return DYNAMIC_CURRICULUM;
  if (type === "None") return "Baseline";
  const short = fields?.curriculum;
  return (short && conditionOfCode(short)) || "Baseline";
}

/** Reads one run folder (through the run-folder reader); unreadable files are added to `problems`. */
export function readRun(dir: string, name: string, problems: string[]): RunData {
  const run = readRunFolder(dir);
  problems.push(...run.problems);
  const config = run.config;
  const fields = tryParseRunName(name);
  const seedFromConfig = getPath(config, "seed");
  const seed = fields?.seed ?? (seedFromConfig === undefined ? "?" : String(seedFromConfig));
  const groupKey = fields ? NAMING_KEYS.map((k) => (k === "seed" ? "#" : fields[k])).join("_") : name;
  const tracking = getPath(config, "dataset.tracking_metric");
  let testOutputs: TestPredictions | null = null;
  try {
    const testDir = join(dir, RUN_FILES.test);
    const saved = existsSync(join(testDir, outputFile("test", "outputs")))
      ? readSubsetOutputs(testDir, "test")
      : null;
    if (saved) {
      testOutputs = {
        predictions: argmaxRows(saved.logits, saved.numClasses),
        targets: saved.targets,
        numClasses: saved.numClasses,
      };
    }
  } catch (error) {
    problems.push((error as Error).message);
  }
  const trainingType = fields?.training_type ?? getPath(config, "training_type");
  return {
    name,
    dir,
    config,
    fields,
    condition: conditionOf(config, fields),
    seed,
    groupKey,
    finished: run.finished,
    metrics: run.metrics,
    pace: run.pace,
    test: run.test ? metricValues(run.test) : null,
    testOutputs,
    trackingMetric: typeof tracking === "string" ? tracking : "accuracy",
    trainingType: typeof trainingType === "string" ? trainingType : "epoch",
  };
}

/** Reads `curriculum/<type>/<id>.csv` (and its card `<id>.yaml`) through the score-table reader. */
export function readScore(path: string, type: string, id: string): ScoreData {
  const rows = readScoreRows(path, { sourceIndexFallback: true });
  const numeric = (name: string): Float64Array => {
    const values = rows.columns.get(name);
    if (!values) {
      throw new Error(
        `${path}: missing column '${name}' (expected index, source_index, mean, ranks, encoded, decoded)`,
      );
    }
    return values;
  };
  return {
    type,
    id,
    path,
    index: rows.index,
    sourceIndex: rows.sourceIndex,
    mean: numeric("mean"),
    ranks: numeric("ranks"),
    encoded: rows.encoded,
    decoded: rows.decoded,
    card: readScoreCard(path),
  };
}

/** Reads everything the report shows from `<resultsDir>/<experimentId>`. */
export function readExperiment(resultsDir: string, experimentId: string): ExperimentData {
  const dir = experimentDir(resultsDir, experimentId);
  const problems: string[] = [];
  const runs: RunData[] = [];
  const runsDir = trainingDir(resultsDir, experimentId);
  for (const name of listRuns(resultsDir, experimentId))
    runs.push(readRun(join(runsDir, name), name, problems));
  const scores: ScoreData[] = [];
  const matrices: MatrixData[] = [];
  const scoresDir = curriculumDir(resultsDir, experimentId);
  if (isDir(scoresDir)) {
    for (const entry of readdirSync(scoresDir).sort()) {
      const path = join(scoresDir, entry);
      if (entry.endsWith(".csv") && !isDir(path)) {
        try {
          matrices.push(readMatrix(path, entry.replace(/\.csv$/, "")));
        } catch (error) {
          problems.push(`${path}: ${(error as Error).message}`);
        }
      } else if (isDir(path) && !entry.startsWith("_") && !entry.startsWith(".")) {
        for (const file of readdirSync(path).sort()) {
          if (!file.endsWith(".csv") || isTemporaryName(file)) continue;
          const scorePath = join(path, file);
          if (isDir(scorePath)) continue;
          try {
            scores.push(readScore(scorePath, entry, file.replace(/\.csv$/, "")));
          } catch (error) {
            problems.push(`${scorePath}: ${(error as Error).message}`);
          }
        }
      }
    }
  }
  return { resultsDir, experimentId, dir, runs, scores, matrices, problems };
}

export interface RunGroup {
  key: string;
  label: string;
  condition: Condition;
  runs: RunData[];
  /** Chart colour: a shade of the condition's colour, distinct per group. */
  color: string;
}

/** Shades per condition (from the colorblind palette): blue, vermillion, green, pink, grey. */
const CONDITION_SHADES: Record<Condition, readonly string[]> = {
  Curriculum: ["#0173b2", "#56b4e9", "#cc78bc", "#1f3f7a"],
  AntiCurriculum: ["#d55e00", "#de8f05", "#ca9161", "#8c3d00"],
  RandomCurriculum: ["#029e73", "#7fc9a8", "#ece133", "#01573f"],
  Dynamic: ["#fbafe4", "#8e4585", "#b05fa0", "#e7b3dd"],
  Baseline: ["#4d4d4d", "#949494", "#000000", "#bdbdbd"],
};

const NUMBER_KEY_LABELS: Partial<Record<NamingKey, string>> = {
  learning_rate: "lr",
  batch_size: "batch",
  iterations: "iterations",
  "curriculum.pacing.initial_size": "initial",
  "curriculum.pacing.final_iteration": "final",
};

/** `curriculum.sampling.short` codes (docs/configuration.md, "Results layout and run names") shown by name. */
const SAMPLING_NAMES: Record<string, string> = { U: "Unbalanced", B: "Balanced", O: "Original" };

/** A naming field's value as shown to readers (sampling codes spelled out). */
export function displayField(key: NamingKey, value: string): string {
  return key === "curriculum.sampling" ? (SAMPLING_NAMES[value] ?? value) : value;
}

/** The naming fields a curriculum sets (a baseline has none of them). */
const CURRICULUM_KEYS: readonly NamingKey[] = NAMING_KEYS.filter((k) => k.startsWith("curriculum"));

/**
 * Groups runs that differ only in their seed, ordered Curriculum, AntiCurriculum, RandomCurriculum,
 * Baseline. Labels name the condition plus only the naming fields that differ between groups, so a
 * study comparing three curricula reads "Curriculum · CELoss · Linear" rather than a 16-field name.
 */
export function groupRunsByCondition(runs: readonly RunData[]): RunGroup[] {
  const byKey = new Map<string, RunData[]>();
  for (const run of runs) {
    const list = byKey.get(run.groupKey) ?? [];
    list.push(run);
    byKey.set(run.groupKey, list);
  }
  const groups = [...byKey.entries()].map(([key, members]) => ({
    key,
    members,
    first: members[0] as RunData,
  }));
  // curriculum fields are compared among curriculum groups only (baselines have none)
  const curricular = groups.filter((g) => g.first.condition !== "Baseline");
  const varying = NAMING_KEYS.filter((k) => {
    if (k === "seed" || k === "curriculum") return false;
    const among = CURRICULUM_KEYS.includes(k) ? curricular : groups;
    return new Set(among.map((g) => g.first.fields?.[k] ?? "")).size > 1;
  });
  const out: RunGroup[] = groups.map(({ key, members, first }) => {
    const parts: string[] = [first.condition];
    if (first.fields) {
      for (const k of varying) {
        if (first.condition === "Baseline" && CURRICULUM_KEYS.includes(k)) continue;
        const value = displayField(k, first.fields[k]);
        const short = NUMBER_KEY_LABELS[k];
        parts.push(short ? `${short} ${value}` : value);
      }
    } else {
      parts.push(first.name);
    }
    return {
      key,
      label: parts.join(" · "),
      condition: first.condition,
      runs: [...members].sort((a, b) => a.seed.localeCompare(b.seed, undefined, { numeric: true })),
      color: "",
    };
  });
  // identical labels (e.g. unparsable names) get the key appended so legends stay distinct
  const counts = new Map<string, number>();
  for (const g of out) counts.set(g.label, (counts.get(g.label) ?? 0) + 1);
  for (const g of out) if ((counts.get(g.label) ?? 0) > 1) g.label = `${g.label} (${g.key})`;
  out.sort(
    (a, b) =>
      CONDITIONS.indexOf(a.condition) - CONDITIONS.indexOf(b.condition) || a.label.localeCompare(b.label),
  );
  // Colours never repeat: each condition's groups get distinct shades of its family.
  for (const condition of CONDITIONS) {
    const members = out.filter((g) => g.condition === condition);
    const shades = distinctShades(CONDITION_SHADES[condition], members.length);
    members.forEach((g, i) => {
      g.color = shades[i] as string;
    });
  }
  return out;
}

/**
 * Naming fields every group shares (curriculum fields: every curriculum group), as "key: value"
 * pairs, so the report can state the common setup once instead of in every label.
 */
export function sharedSettings(groups: readonly RunGroup[]): [string, string][] {
  const firsts = groups.map((g) => g.runs[0]).filter((r): r is RunData => r?.fields != null);
  const curricular = firsts.filter((r) => r.condition !== "Baseline");
  const out: [string, string][] = [];
  for (const k of NAMING_KEYS) {
    if (k === "seed" || k === "curriculum") continue;
    const among = CURRICULUM_KEYS.includes(k) ? curricular : firsts;
    const values = new Set(among.map((r) => r.fields?.[k]));
    if (among.length > 0 && values.size === 1) out.push([k, displayField(k, [...values][0] as string)]);
  }
  return out;
}
