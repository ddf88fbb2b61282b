import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FASHION_MNIST_DEFAULT_PATH } from "../../src/data/mnist.js";
import { loadStudy, planStudy, study } from "../../src/study/index.js";
import { describeWith, systemFile } from "../support/system.js";

/**
 * The study presets of configs/studies/ parse, plan and validate; they are not run here (the Wu et
 * al. study takes tens of minutes: its figures are in the file and docs/study.md).
 */
const PRESET = resolve(import.meta.dirname, "../../configs/studies/when-do-curricula-work.yaml");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "study-preset-"));
  dirs.push(dir);
  return dir;
}

describe("configs/studies/when-do-curricula-work.yaml", () => {
  it("plans Wu et al.'s grid: a full and a small budget, with and without 40% symmetric noise, 5 seeds, three orderings and the baseline", async () => {
    const loaded = loadStudy(PRESET);
    expect(loaded.seeds.length).toBeGreaterThanOrEqual(5);
    expect(loaded.curriculum.orderings).toEqual(["Curriculum", "AntiCurriculum", "RandomCurriculum"]);
    const plan = await planStudy(loaded, scratch());
    const points = plan.groups.map((g) => {
      const dataset = g.config.dataset as Record<string, unknown>;
      const noise = dataset.label_noise as Record<string, unknown>;
      expect(dataset.id).toBe("FashionMNIST");
      expect(noise.kind).toBe("symmetric");
      expect(g.config.engine).toBe("torch");
      expect(g.config.training_type).toBe("step");
      expect(g.runs.length).toBe(loaded.seeds.length);
      return `${g.config.iterations} steps, noise ${noise.rate}`;
    });
    expect(points.sort()).toEqual([
      "300 steps, noise 0",
      "300 steps, noise 0.4",
      "60 steps, noise 0",
      "60 steps, noise 0.4",
    ]);
    // Every group's orderings share its pacing, sampling and its own seed-ensemble score.
    expect(plan.curriculumOverrides.length).toBe(4);
    for (const [i, overrides] of plan.curriculumOverrides.entries()) {
      expect(overrides).toContain("curriculum=Curriculum,AntiCurriculum,RandomCurriculum");
      expect(overrides).toContain("curriculum/pacing=Linear");
      expect(overrides).toContain(
        `curriculum/scoring=${plan.curriculumScore[plan.groups[i]?.name as string]}`,
      );
    }
    expect(new Set(Object.values(plan.curriculumScore)).size).toBe(4);
  });
});

describeWith(
  systemFile(join(FASHION_MNIST_DEFAULT_PATH, "train-images-idx3-ubyte.gz"), "dataset-fashion-mnist"),
  "configs/studies/when-do-curricula-work.yaml on the Debian Fashion-MNIST files",
  () => {
    it("validates every stage in a dry run, training nothing", async () => {
      const dir = scratch();
      const lines: string[] = [];
      await study({ file: PRESET, cwd: dir, dryRun: true, log: (l) => lines.push(l) });
      const pending = lines.filter((l) => l.startsWith("pending"));
      expect(pending.map((l) => l.split(":")[0])).toEqual([
        "pending train-baseline",
        "pending score-CELoss",
        "pending correlation",
        "pending train-curricula-FashionMNIST-CNN",
        "pending train-curricula-FashionMNIST-CNN-2",
        "pending train-curricula-FashionMNIST-CNN-3",
        "pending train-curricula-FashionMNIST-CNN-4",
        "pending postprocess",
        "pending report",
      ]);
      expect(lines.join("\n")).toMatch(/train 20 baseline run\(s\)/);
      expect(existsSync(join(dir, "results", "when-do-curricula-work", "training"))).toBe(false);
    });
  },
);
