import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadStudy, planStudy, runStudy, study } from "../../src/study/index.js";
import { CurriculaError } from "../../src/util/errors.js";
import { childPids, isAlive, waitFor } from "../support/processes.js";

const BIN = resolve(import.meta.dirname, "../../bin/curricula.js");

/** A small study: 2 seeds, 3 epochs, two scoring functions, one ordering. */
const SMALL_STUDY = `
results_dir: results
experiment_id: small
training:
  dataset: Digits
  model: FFNN
  iterations: 3
seeds: [1, 2]
scoring:
  CELoss: {}
  FirstIteration: {}
  Random: {}
curriculum:
  scoring: CELoss
  orderings: [Curriculum, AntiCurriculum]
`;

function studyDir(text = SMALL_STUDY): string {
  const dir = mkdtempSync(join(tmpdir(), "study-"));
  writeFileSync(join(dir, "study.yaml"), text);
  return dir;
}

function trainingRuns(dir: string, exp = "small"): string[] {
  const training = join(dir, "results", exp, "training");
  return existsSync(training)
    ? readdirSync(training).filter((r) => existsSync(join(training, r, "metrics.csv")))
    : [];
}

describe("study file", () => {
  it("rejects a bad value with the file and the key", () => {
    const dir = studyDir(SMALL_STUDY.replace("seeds: [1, 2]", "seeds: one"));
    expect(() => loadStudy(join(dir, "study.yaml"))).toThrow(/study\.yaml: seeds: /);
  });

  it("rejects a curriculum scoring function the study does not compute", async () => {
    const dir = studyDir(SMALL_STUDY.replace("scoring: CELoss\n  orderings", "scoring: CVLoss\n  orderings"));
    await expect(planStudy(loadStudy(join(dir, "study.yaml")), dir)).rejects.toThrow(
      /curriculum\.scoring: must name one of/,
    );
  });

  it("validates every stage before anything runs: typos of late stages fail the dry run, all listed", async () => {
    const dir = studyDir(
      SMALL_STUDY.replace("  orderings:", "  pacing: Linaer\n  orderings:").replace(
        "FirstIteration: {}",
        "FirstIteration: {stop: bset}",
      ),
    );
    const lines: string[] = [];
    const error = await study({
      file: "study.yaml",
      cwd: dir,
      dryRun: true,
      log: (l) => lines.push(l),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(CurriculaError);
    expect(error.message).toMatch(
      /study\.yaml: the study does not validate; nothing was run\. 2 problem\(s\)/,
    );
    expect(error.message).toMatch(
      /train-curricula \(curriculum\): .*curriculum\/pacing: no config named 'Linaer'/,
    );
    expect(error.message).toMatch(/score-FirstIteration \(scoring\.FirstIteration\): .*stop/);
    expect(lines.filter((l) => l.startsWith("pending"))).toEqual([]);
    expect(existsSync(join(dir, "results", "small", "training"))).toBe(false);
  });

  it("plans per-seed scores, seed ensembles and the curriculum grid on one shared split", async () => {
    const dir = studyDir();
    const plan = await planStudy(loadStudy(join(dir, "study.yaml")), dir);
    expect(plan.groups).toHaveLength(1);
    // "1-1" is the run of seed 1 (one spelling per run)
    expect(plan.groups[0]?.seeds).toEqual(["1", "2-1"]);
    expect(plan.scores.map((s) => s.id)).toEqual([
      "CELoss-s1",
      "CELoss-s2",
      "CELoss",
      "FirstIteration-s1",
      "FirstIteration-s2",
      "FirstIteration",
      "Random",
    ]);
    const ensemble = plan.scores.find((s) => s.id === "CELoss");
    expect(ensemble?.config.run_name).toEqual(plan.groups[0]?.runs);
    const generated = parse(
      readFileSync(join(plan.confDir, "curriculum", "scoring", "CELoss-s2.yaml"), "utf8"),
    );
    expect(generated).toMatchObject({ id: "CELoss-s2", type: "CELoss", run_name: plan.groups[0]?.runs[1] });
    expect(plan.curriculumOverrides[0]).toContain("curriculum=Curriculum,AntiCurriculum");
    expect(plan.curriculumOverrides[0]).toContain("curriculum/scoring=CELoss");
  });
});

describe("running a study", () => {
  let dir: string;
  beforeAll(async () => {
    dir = studyDir();
    await runStudy(await planStudy(loadStudy(join(dir, "study.yaml")), dir), { jobs: 2, log: () => {} });
  });

  it("trains baseline and curricula, scores, correlates and writes the report", () => {
    // 2 baseline + 2 orderings × 2 seeds
    expect(trainingRuns(dir)).toHaveLength(6);
    const exp = join(dir, "results", "small");
    for (const file of [
      "CELoss/CELoss.csv",
      "CELoss/CELoss-s1.csv",
      "FirstIteration/FirstIteration.csv",
      "Random/Random.csv",
    ]) {
      expect(existsSync(join(exp, "curriculum", file)), file).toBe(true);
    }
    const matrix = readFileSync(join(exp, "curriculum", "correlation_matrix.csv"), "utf8");
    for (const id of ["CELoss", "CELoss-s1", "FirstIteration", "Random"]) expect(matrix).toContain(id);
    expect(existsSync(join(exp, "agg_seed"))).toBe(true);
    expect(readFileSync(join(exp, "report.html"), "utf8")).toContain("<svg");
  });

  it("skips every finished stage when run again, and removes what a killed write left in study/", async () => {
    // A study killed while writing state.yaml leaves its temporary file behind (pid of a dead writer).
    const stale = join(dir, "results", "small", "study", `state.yaml.tmp-${2 ** 22 + 4321}-deadbeef`);
    writeFileSync(stale, "stages: {}\n");
    const staleReport = join(dir, "results", "small", `report.html.tmp-${2 ** 22 + 4321}-0badf00d`);
    writeFileSync(staleReport, "<html>");
    const lines: string[] = [];
    const result = await runStudy(await planStudy(loadStudy(join(dir, "study.yaml")), dir), {
      log: (l) => lines.push(l),
    });
    expect(result.stages.every((s) => s.status === "skipped")).toBe(true);
    expect(lines.filter((l) => l.startsWith("skip"))).toHaveLength(result.stages.length);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(staleReport)).toBe(false);
  });

  it("lists the stages and their state with --dry-run", () => {
    const out = spawnSync(process.execPath, [BIN, "study", "study.yaml", "--dry-run"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(out.status).toBe(0);
    expect(out.stderr).toMatch(/done\s+train-baseline/);
    expect(out.stderr).toMatch(/done\s+score-CELoss/);
  });
});

describe("interrupting a study", () => {
  it("SIGINT during a scoring stage stops the scoring processes before the study exits", async () => {
    const dir = studyDir();
    const child = spawn(process.execPath, [BIN, "--no-progress", "study", "study.yaml", "--jobs", "2"], {
      cwd: dir,
    });
    let output = "";
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.stdout.on("data", (d) => {
      output += d;
    });
    const closed = new Promise<[number | null, string | null]>((r) =>
      child.on("close", (code, signal) => r([code, signal])),
    );
    // both scoring stages of the first phase have their process
    const scorers = await waitFor(
      () => {
        const pids = output.includes("stage score-") ? childPids(child.pid as number) : [];
        return pids.length === 2 ? pids : undefined;
      },
      180_000,
      "two scoring processes",
    );
    child.kill("SIGINT");
    const [code, signal] = await closed;
    expect(scorers.filter(isAlive), output).toEqual([]);
    expect(code === 130 || signal === "SIGINT", `code ${code}, signal ${signal}`).toBe(true);
    expect(output).toMatch(/Interrupted \(SIGINT\): stopped\. Run the same command again to resume\./);
  }, 300_000);

  it("resumes after a kill during scoring without retraining finished runs", async () => {
    const dir = studyDir();
    const child = spawn(process.execPath, [BIN, "--no-progress", "study", "study.yaml", "--jobs", "1"], {
      cwd: dir,
    });
    let output = "";
    await new Promise<void>((resolveKill) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("stage score-")) {
          child.kill("SIGINT");
          resolveKill();
        }
      };
      child.stderr.on("data", onData);
      child.stdout.on("data", onData);
    });
    await new Promise((r) => child.on("close", r));
    const baseline = trainingRuns(dir);
    expect(baseline).toHaveLength(2);
    const before = baseline.map(
      (r) => statSync(join(dir, "results", "small", "training", r, "metrics.csv")).mtimeMs,
    );

    const rerun = spawnSync(process.execPath, [BIN, "--no-progress", "study", "study.yaml"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain("skip  train-baseline");
    expect(rerun.stdout).toMatch(/Report: results\/small\/report\.html/);
    const after = baseline.map(
      (r) => statSync(join(dir, "results", "small", "training", r, "metrics.csv")).mtimeMs,
    );
    expect(after).toEqual(before);
    expect(trainingRuns(dir)).toHaveLength(6);
  });
});

describe("a study with an absolute results_dir", () => {
  it("writes every stage's results there, postprocess, fusion and report included", async () => {
    const dir = studyDir();
    const results = join(mkdtempSync(join(tmpdir(), "study-abs-")), "out");
    writeFileSync(
      join(dir, "study.yaml"),
      `results_dir: ${results}
experiment_id: abs
training: {dataset: Digits, model: FFNN, iterations: 1}
seeds: [1]
scoring: {Random: {}}
curriculum: {scoring: Random, orderings: [Curriculum]}
`,
    );
    const plan = await planStudy(loadStudy(join(dir, "study.yaml")), dir);
    const result = await runStudy(plan, { log: () => {} });
    expect(result.stages.every((s) => s.status === "done")).toBe(true);
    const exp = join(results, "abs");
    expect(existsSync(join(exp, "summary"))).toBe(true);
    expect(existsSync(join(exp, "fusion"))).toBe(true);
    expect(existsSync(join(exp, "report.html"))).toBe(true);
    // nothing under the study's folder: the path was not joined to it
    expect(existsSync(join(dir, results))).toBe(false);
  }, 120_000);
});
