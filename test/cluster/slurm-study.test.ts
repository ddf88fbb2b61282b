import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGED_CONFIG_DIR } from "../../src/config/package.js";
import { cli, cliAsync, differingFiles, slurmConf, slurmJobCount, until } from "./services.js";

/**
 * The default study, shortened (two seeds, 34 steps, two scoring functions, two orderings, no
 * report: the report stage runs like postprocess, and rendering it twice costs half a minute) so the
 * test takes seconds, through `curricula study --executor slurm`: one command submits every stage
 * as jobs chained with afterok and returns; the study then ends with the same metrics and score
 * files as the same study run locally, and a rerun submits no job.
 */

let root: string;

function shortStudy(): string {
  const text = readFileSync(join(PACKAGED_CONFIG_DIR, "study.yaml"), "utf8")
    .replace("iterations: 340", "iterations: 34")
    .replace("eval_frequency: 34", "eval_frequency: 17")
    .replace("save_frequency: 34", "save_frequency: 17")
    .replace("seeds: [1, 2, 3]", "seeds: [1, 2]")
    .replace(/^scoring:\n(?: {2}.*\n| {4}.*\n)+/m, "scoring:\n  CELoss: {}\n  Random: {}\n")
    .replace(
      "orderings: [Curriculum, AntiCurriculum, RandomCurriculum]",
      "orderings: [Curriculum, AntiCurriculum]",
    )
    .replace("report: true", "report: false");
  expect(text).toContain("iterations: 34");
  expect(text).not.toContain("CVLoss");
  return text;
}

beforeAll(() => {
  slurmConf();
  root = mkdtempSync(join(tmpdir(), "curricula-slurm-study-"));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("curricula study --executor slurm", () => {
  it("submits the whole study, which ends as the local study does; a rerun submits nothing", async () => {
    const local = join(root, "local");
    const slurm = join(root, "slurm");
    for (const dir of [local, slurm]) {
      mkdirSync(dir);
      writeFileSync(join(dir, "short.yaml"), shortStudy());
    }
    const reference = cliAsync(["study", "short.yaml", "--jobs", "1"], local);
    const submit = cli(["study", "short.yaml", "--executor", "slurm"], slurm);
    expect(submit.code, submit.stderr).toBe(0);
    // Returned right away with every stage queued, later stages after earlier ones.
    expect(submit.stderr).toMatch(/submitted train-baseline as job (\d+) \(after \d+\)/);
    expect(submit.stderr).toMatch(/submitted postprocess as job \d+ \(after [\d, ]+\)/);
    expect(submit.stderr).toMatch(/The study is queued; follow it with: curricula status results study/);
    expect(submit.stdout).not.toMatch(/Report:/);
    const status = cli(["status", "results", "study"], slurm);
    expect(status.stdout).toMatch(/^(queued|running|done) +stage postprocess/m);

    const wait = cli(["study", "short.yaml", "--executor", "slurm", "--wait"], slurm);
    expect(wait.code, wait.stderr).toBe(0);
    // The second command found every stage queued already and waited for those jobs.
    expect(wait.stderr).toMatch(/queued postprocess \(already in job \d+\)/);
    expect(wait.stderr).not.toMatch(/submitted/);
    await until("the last stage", () => {
      const s = cli(["status", "results", "study"], slurm).stdout;
      return /0 queued, 0 running, \d+ done, 0 failed/.test(s) ? s : undefined;
    });

    const ref = await reference;
    expect(ref.code, ref.stderr).toBe(0);
    const compared = (rel: string) =>
      rel.endsWith("metrics.csv") || (rel.startsWith("curriculum/") && rel.endsWith(".csv"));
    const a = join(local, "results", "study");
    const b = join(slurm, "results", "study");
    expect(differingFiles(a, b, compared)).toEqual([]);

    const before = slurmJobCount();
    const rerun = cli(["study", "short.yaml", "--executor", "slurm"], slurm);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/Every stage finished already; nothing to submit/);
    expect(slurmJobCount()).toBe(before);
  }, 300_000);
});
