import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStudy, planStudy, runStudy, type StudyPlan, studyStages } from "../../src/study/index.js";
import { readCsv } from "../../src/util/csv.js";
import { readYaml } from "../../src/util/yaml-io.js";

/**
 * A small study with the training-dynamics scores, ConfidentLearning on the study's CVLoss folds,
 * the difficulty-aware evaluation and late fusion, end to end through the report.
 */
const STUDY = `
results_dir: results
experiment_id: dyn
training:
  dataset: Digits
  model: FFNN
  iterations: 3
seeds: [1, 2]
scoring:
  AUM: {}
  Cartography: {}
  Forgetting: {}
  CVLoss:
    splits: 2
    setup:
      iterations: 1
  ConfidentLearning: {}
difficulty: AUM
curriculum:
  scoring: AUM
  orderings: [Curriculum, AntiCurriculum]
`;

let dir: string;
let plan: StudyPlan;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "study-dyn-"));
  writeFileSync(join(dir, "study.yaml"), STUDY);
  plan = await planStudy(loadStudy(join(dir, "study.yaml")), dir);
  await runStudy(plan, { log: () => {} });
}, 600_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("a study with training-dynamics scores, fusion and difficulty-aware evaluation", () => {
  const exp = () => join(dir, "results", "dyn");

  it("plans dev/test scores for the difficulty function and points ConfidentLearning at CVLoss", () => {
    expect(plan.difficultyScores).toEqual(["AUM-dev", "AUM-test"]);
    const cl = plan.scores.filter((s) => s.function === "ConfidentLearning");
    expect(cl.map((s) => [s.id, s.config.cvloss])).toEqual([
      ["ConfidentLearning-s1", "CVLoss-s1"],
      ["ConfidentLearning-s2", "CVLoss-s2"],
      ["ConfidentLearning", "CVLoss"],
    ]);
    const stages = studyStages(plan);
    expect(stages.find((s) => s.name === "score-ConfidentLearning")?.phase).toBeGreaterThan(
      stages.find((s) => s.name === "score-CVLoss")?.phase as number,
    );
    expect(stages.map((s) => s.name)).toContain("fusion");
  });

  it("scores carry robustness; ConfidentLearning reuses CVLoss's folds (no training of its own)", () => {
    const card = readYaml<Record<string, unknown>>(join(exp(), "curriculum", "AUM", "AUM.yaml"));
    expect(card.robustness).toMatchObject({ runs: 2, pairs: 1 });
    const cl = readYaml<Record<string, unknown>>(
      join(exp(), "curriculum", "ConfidentLearning", "ConfidentLearning.yaml"),
    );
    expect(typeof cl.label_issues).toBe("number");
    expect(cl.robustness).toMatchObject({ runs: 2 });
    const folder = join(exp(), "curriculum", "ConfidentLearning");
    for (const run of cl.runs as string[]) expect(existsSync(join(folder, run, "metrics.csv"))).toBe(false);
    const test = readYaml<Record<string, unknown>>(join(exp(), "curriculum", "AUM", "AUM-test.yaml"));
    expect(test.subset).toBe("test");
    // another subset than train: atomic runs of their own, beside the train ones
    expect((test.runs as string[]).every((r) => r.endsWith("_b_test"))).toBe(true);
  });

  it("fuses both orderings and the baseline and reports why there is no equal-size baseline ensemble", () => {
    const fusion = readYaml<Record<string, unknown>>(join(exp(), "fusion", "late-fusion", "fusion.yaml"));
    expect(fusion.size).toBe(6);
    expect(Object.keys(fusion.requested as object).map((n) => n.split("_")[9])).toEqual(["C", "A", "N"]);
    expect(fusion.baseline).toMatchObject({ size: 6, available: 2 });
    expect(existsSync(join(exp(), "fusion", "late-fusion", "test_holistic.yaml"))).toBe(true);
  });

  it("postprocess evaluates every run on the hardest quantiles of the dev and test subsets", () => {
    const { rows } = readCsv(join(exp(), "summary", "difficulty.csv"));
    expect(new Set(rows.map((r) => `${r.score}/${r.subset}`))).toEqual(
      new Set(["AUM-dev/dev", "AUM-test/test"]),
    );
    expect(rows).toHaveLength(6 * 2 * 4);
  });

  it("the report shows data maps, robustness, the fusion row and metrics by difficulty", () => {
    const html = readFileSync(join(exp(), "report.html"), "utf8");
    expect(html).toContain("Seed robustness");
    expect(html).toContain("data map");
    expect(html).toContain("Late fusion of all members");
    expect(html).toContain("hardest 10%");
    expect(html).toContain("label issue(s)");
    expect(html).not.toContain('id="problems"');
  });
});
