import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { experimentDir, FUSION_FILES, fusionRoot, RUN_FILES, trainingDir } from "../config/layout.js";
import { CURRICULUM_CODES, NAMING_KEYS, tryParseRunName } from "../config/naming.js";
import { listRuns } from "../results/experiment.js";
import { readRunConfig } from "../results/run-folder.js";
import { readSubsetOutputs } from "../results/subset-outputs.js";
import { resolveTrainingRuns } from "../scoring/runs.js";
import { softmaxRows } from "../training/measures/logits.js";
import { argmaxRow, computeMetrics, METRIC_NAMES } from "../training/metrics.js";
import { resultsYaml } from "../training/outputs.js";
import { writeDirAtomic } from "../util/atomic.js";
import { ConfigError, DataError } from "../util/errors.js";
import { saveNpy } from "../util/npy.js";
import { pathIdProblem } from "../util/path-safety.js";

/**
 * Late fusion (the aucurriculum paper's finding that curricula complement each other): the members'
 * softmax outputs on the test subset are averaged and the argmax of the mean is the fused prediction.
 * Members are training runs or aggregated names (`…_#`, expanded to their seeds); their saved test
 * outputs (`_test/test_outputs.npy`, the best model's logits) are read, never recomputed. The result
 * is compared with an ensemble of as many baseline seeds (runs without a curriculum and the same
 * dataset and model) when the experiment has that many, and with each requested name's own ensemble.
 *
 * Writes `<results>/<experiment>/fusion/<id>/`: `test_holistic.yaml` (the fused metrics, as a run's),
 * `fusion.yaml` (members, comparison) and the fused `test_probabilities.npy`, `test_targets.npy`,
 * `test_indices.npy`, all at once (the folder is replaced atomically).
 */

export interface FusionOptions {
  /** Folder name under `fusion/`; default `late-fusion`. */
  id?: string;
}

/** Test outputs of one run in subset order. */
export interface TestOutputs {
  run: string;
  /** N × C softmax probabilities (float64), row = test position. */
  probabilities: Float64Array;
  targets: Int32Array;
  numClasses: number;
  metricNames: string[];
}

export interface FusedMetrics {
  members: string[];
  metrics: Record<string, number>;
}

export interface FusionResult {
  id: string;
  dir: string;
  /** Every fused run, in order. */
  members: string[];
  /** Requested names and the runs each expanded to. */
  requested: Record<string, string[]>;
  metrics: Record<string, number>;
  /** An ensemble of as many baseline runs, or why there is none. */
  baseline: (FusedMetrics & { size: number }) | { size: number; available: number; reason: string };
  /** The ensemble of each requested name's own runs. */
  ensembles: Record<string, FusedMetrics>;
  /** Each member's own test metrics (from the same saved outputs). */
  single: Record<string, Record<string, number>>;
}

/** Reads a run's saved test outputs (`_test/test_*.npy`) and turns the logits into probabilities. */
export function readTestOutputs(runDir: string, run: string): TestOutputs {
  const { logits, targets, numClasses: c } = readSubsetOutputs(join(runDir, RUN_FILES.test), "test");
  const n = targets.length;
  const probabilities = softmaxRows(logits, n, c);
  let metricNames: string[] = [...METRIC_NAMES];
  try {
    const metrics = readRunConfig(runDir).dataset.metrics;
    if (Array.isArray(metrics) && metrics.length > 0) metricNames = metrics.map(String);
  } catch {
    // a run folder without a readable config still has its outputs; use the default metrics
  }
  return { run, probabilities, targets, numClasses: c, metricNames };
}

/** The mean of the members' probabilities (they must cover the same test samples with the same labels). */
export function meanProbabilities(members: readonly TestOutputs[]): Float64Array {
  const first = members[0];
  if (!first) throw new Error("meanProbabilities: no members");
  const out = new Float64Array(first.probabilities.length);
  for (const m of members) {
    if (m.numClasses !== first.numClasses || m.targets.length !== first.targets.length) {
      throw new DataError(
        `${m.run}: ${m.targets.length} test samples × ${m.numClasses} classes, but ${first.run} has ` +
          `${first.targets.length} × ${first.numClasses}: fused runs must share the test subset`,
      );
    }
    for (let i = 0; i < m.targets.length; i++) {
      if (m.targets[i] !== first.targets[i]) {
        throw new DataError(
          `${m.run}: test position ${i} has label ${m.targets[i]} but ${first.run} has ${first.targets[i]}: ` +
            "fused runs must share the test subset (same dataset and dataset seed)",
        );
      }
    }
    for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) + (m.probabilities[j] as number);
  }
  for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) / members.length;
  return out;
}

/** Metrics of the argmax of the mean softmax of the members. */
export function fusedMetrics(members: readonly TestOutputs[]): Record<string, number> {
  const first = members[0] as TestOutputs;
  const mean = meanProbabilities(members);
  const c = first.numClasses;
  const predictions = Int32Array.from({ length: first.targets.length }, (_, i) => argmaxRow(mean, i, c));
  return computeMetrics(first.metricNames, predictions, first.targets, first.numClasses);
}

/** True for a run trained without a curriculum (config `curriculum.type`/`id` None, or name code N). */
export function isBaselineRun(runDir: string, name: string): boolean {
  try {
    const curriculum = readRunConfig(runDir).curriculum as { id?: string; type?: string };
    return (curriculum.type ?? curriculum.id ?? "None") === "None";
  } catch {
    return tryParseRunName(name)?.curriculum === CURRICULUM_CODES.Baseline;
  }
}

/** Naming fields a baseline must share with the fused runs: all but the curriculum and the seed. */
const SHARED_FIELDS = NAMING_KEYS.filter((k) => !k.startsWith("curriculum") && k !== "seed");

/**
 * Baseline runs of an experiment that share dataset, model, optimizer, learning rate, batch size,
 * budget, scheduler and augmentation with a reference run, in seed order.
 */
export function baselineRuns(resultsDir: string, experimentId: string, reference: string): string[] {
  const dir = trainingDir(resultsDir, experimentId);
  const ref = tryParseRunName(reference);
  const same = (name: string): boolean => {
    if (!ref) return true;
    const f = tryParseRunName(name);
    return f !== null && SHARED_FIELDS.every((k) => f[k] === ref[k]);
  };
  return listRuns(resultsDir, experimentId, { finished: true, order: "natural" }).filter(
    (name) => same(name) && isBaselineRun(join(dir, name), name),
  );
}

/** `curricula fuse`: fuses the named runs' test outputs and writes `fusion/<id>/`. */
export async function fuse(
  resultsDir: string,
  experimentId: string,
  names: readonly string[],
  options: FusionOptions = {},
): Promise<FusionResult> {
  if (names.length === 0) throw new ConfigError("names", "name at least one run or aggregated name to fuse");
  const id = options.id ?? "late-fusion";
  if (!/^[\w.-]+$/.test(id) || pathIdProblem(id))
    throw new ConfigError("--id", `must be a folder name (letters, digits, _ . -), got '${id}'`);
  if (!existsSync(experimentDir(resultsDir, experimentId))) {
    throw new DataError(`${experimentDir(resultsDir, experimentId)}: experiment folder not found`);
  }
  const requested: Record<string, string[]> = {};
  const outputs = new Map<string, TestOutputs>();
  const load = (run: string, dir: string) => {
    let out = outputs.get(run);
    if (!out) {
      out = readTestOutputs(dir, run);
      outputs.set(run, out);
    }
    return out;
  };
  for (const name of names) {
    requested[name] = resolveTrainingRuns(resultsDir, experimentId, name).map((r) => {
      load(r.name, r.dir);
      return r.name;
    });
  }
  const members = [...new Set(Object.values(requested).flat())];
  const fusedMembers = members.map((m) => outputs.get(m) as TestOutputs);
  const mean = meanProbabilities(fusedMembers);
  const first = fusedMembers[0] as TestOutputs;
  const metrics = fusedMetrics(fusedMembers);

  const available = baselineRuns(resultsDir, experimentId, members[0] as string);
  let baseline: FusionResult["baseline"];
  if (available.length >= members.length) {
    const chosen = available.slice(0, members.length);
    const runs = chosen.map((r) => load(r, join(trainingDir(resultsDir, experimentId), r)));
    baseline = { size: members.length, members: chosen, metrics: fusedMetrics(runs) };
  } else {
    baseline = {
      size: members.length,
      available: available.length,
      reason: `the experiment has ${available.length} baseline run(s) with the same dataset and model; an equal-size ensemble needs ${members.length}`,
    };
  }
  const ensembles = Object.fromEntries(
    Object.entries(requested).map(([name, runs]) => [
      name,
      { members: runs, metrics: fusedMetrics(runs.map((r) => outputs.get(r) as TestOutputs)) },
    ]),
  );
  const single = Object.fromEntries(members.map((m) => [m, fusedMetrics([outputs.get(m) as TestOutputs])]));

  const dir = join(fusionRoot(resultsDir, experimentId), id);
  const n = first.targets.length;
  await writeDirAtomic(dir, async (tmp) => {
    await writeFile(join(tmp, FUSION_FILES.testHolistic), stringify(resultsYaml(metrics)));
    await writeFile(
      join(tmp, FUSION_FILES.card),
      stringify({ id, size: members.length, members, requested, metrics, baseline, ensembles, single }),
    );
    saveNpy(join(tmp, FUSION_FILES.probabilities), Float32Array.from(mean), [n, first.numClasses]);
    saveNpy(join(tmp, FUSION_FILES.targets), first.targets, [n]);
    saveNpy(
      join(tmp, FUSION_FILES.indices),
      Int32Array.from({ length: n }, (_, i) => i),
      [n],
    );
  });
  return { id, dir, members, requested, metrics, baseline, ensembles, single };
}
