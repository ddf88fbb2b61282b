import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, cliAsync, differingFiles, slurmConf, slurmJobCount } from "./services.js";

/**
 * A 4-seed sweep of the default Digits/FFNN config through a real single-node SLURM cluster ends
 * with the same metrics.csv files as the same sweep run locally; a rerun submits no job; bad input
 * fails before anything is written.
 */

const SWEEP = ["seed=1,2,3,4", "iterations=3"];
let root: string;
let local: string;
let slurm: string;

beforeAll(async () => {
  slurmConf();
  root = mkdtempSync(join(tmpdir(), "curricula-slurm-"));
  local = join(root, "local");
  slurm = join(root, "slurm");
  mkdirSync(local);
  mkdirSync(slurm);
  // The local reference trains while SLURM runs the same sweep.
  const [l, s] = await Promise.all([
    cliAsync(["train", ...SWEEP, "--jobs", "2"], local),
    cliAsync(["train", ...SWEEP, "--executor", "slurm", "--wait", "slurm.runs_per_task=2"], slurm),
  ]);
  expect(l.code, l.stderr).toBe(0);
  expect(s.code, s.stderr).toBe(0);
  expect(s.stderr).toMatch(/submitted job array \d+ \(2 task\(s\), 4 run\(s\)\)/);
  expect(s.stderr).toMatch(/4 run\(s\): 4 trained, 0 skipped, 0 failed/);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("--executor slurm: a 4-seed sweep", () => {
  it("ends with byte-identical metrics and test results", () => {
    const files = (rel: string) => rel.endsWith("metrics.csv") || rel.endsWith("test_holistic.yaml");
    const a = join(local, "results", "default", "training");
    const b = join(slurm, "results", "default", "training");
    expect(readdirSync(b).filter((n) => !n.startsWith("."))).toHaveLength(4);
    expect(differingFiles(a, b, files)).toEqual([]);
    // The saved configs are the same too (slurm settings are no part of a run's identity).
    expect(differingFiles(a, b, (rel) => rel.endsWith("config.yaml"))).toEqual([]);
  });

  it("wrote the job files: script, per-task logs, task states and outcomes", () => {
    const jobs = join(slurm, "results", "default", "jobs", "slurm");
    const [batch] = readdirSync(jobs);
    const dir = join(jobs, batch as string);
    expect(readFileSync(join(dir, "job.sh"), "utf8")).toMatch(/#SBATCH --signal=B:USR1@300/);
    expect(readdirSync(join(dir, "logs")).sort()).toEqual(["task-0.out", "task-1.out"]);
    expect(readFileSync(join(dir, "logs", "task-1.out"), "utf8")).toMatch(/trained in/);
    expect(readdirSync(join(dir, "outcomes"))).toHaveLength(4);
    expect(JSON.parse(readFileSync(join(dir, "tasks", "0.json"), "utf8")).state).toBe("done");
  });

  it("status lists every run as done", () => {
    const r = cli(["status", "results", "default"], slurm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^done {7}run/gm)).toHaveLength(4);
    expect(r.stdout).toMatch(/4 run\(s\): 0 queued, 0 running, 4 done, 0 failed/);
  });

  it("curriculum --executor slurm scores as locally does", async () => {
    const run = "run_name=Digits_FFNN_Adam_0.001_32_epoch_3_None_None_N_N_None_None_1_0_1";
    const args = ["curriculum", "curriculum/scoring=CELoss,FirstIteration", `curriculum.scoring.${run}`];
    const [l, s] = await Promise.all([
      cliAsync(args, local),
      cliAsync([...args, "--executor", "slurm", "--wait"], slurm),
    ]);
    expect(l.code, l.stderr).toBe(0);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/submitted job array \d+: score-CELoss, score-FirstIteration/);
    expect(s.stderr).toMatch(/submitted the correlation as job \d+ \(after \d+\)/);
    const scores = (rel: string) => rel.endsWith(".csv");
    const a = join(local, "results", "default", "curriculum");
    const b = join(slurm, "results", "default", "curriculum");
    expect(readdirSync(b)).toEqual(
      expect.arrayContaining(["CELoss", "FirstIteration", "correlation_matrix.csv"]),
    );
    expect(differingFiles(a, b, scores)).toEqual([]);
  }, 240_000);

  it("a rerun submits no job", () => {
    const before = slurmJobCount();
    const r = cli(["train", ...SWEEP, "--executor", "slurm"], slurm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/All 4 run\(s\) finished already; nothing to train/);
    expect(slurmJobCount()).toBe(before);
  });

  it("refuses a run whose saved config differs, as locally, submitting nothing", () => {
    const before = slurmJobCount();
    const r = cli(["train", ...SWEEP, "inference_batch_size=64", "--executor", "slurm"], slurm);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/4 run folder\(s\) hold runs of a different config; nothing was trained/);
    expect(slurmJobCount()).toBe(before);
    const batches = readdirSync(join(slurm, "results", "default", "jobs", "slurm"));
    expect(batches.filter((b) => b.includes("-train-"))).toHaveLength(1);
  });
});

describe("--executor slurm: bad input is a clear error, exit 1, nothing written", () => {
  it("an unknown partition", () => {
    const dir = mkdtempSync(join(root, "bad-"));
    const r = cli(["train", "seed=1", "iterations=2", "--executor", "slurm", "slurm.partition=nosuch"], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/slurm.partition: unknown partition 'nosuch'; the cluster has debug/);
    expect(existsSync(join(dir, "results"))).toBe(false);
  });

  it("SLURM commands missing", () => {
    const dir = mkdtempSync(join(root, "nocmd-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, "node"));
    const r = cli(["train", "seed=1", "iterations=2", "--executor", "slurm"], dir, { PATH: bin });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the SLURM command 'sbatch' was not found on PATH/);
    expect(existsSync(join(dir, "results"))).toBe(false);
  });

  it("a bad slurm key", () => {
    const dir = mkdtempSync(join(root, "badkey-"));
    const r = cli(["train", "seed=1", "iterations=2", "--executor", "slurm", "slurm.gpu=1"], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/slurm.gpu: unknown key; nearest known keys: gpus/);
    expect(existsSync(join(dir, "results"))).toBe(false);
  });
});
