import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createExecutor } from "../../src/experiments/executors/index.js";
import {
  InProcessExecutor,
  LocalExecutor,
  LocalProcessExecutor,
} from "../../src/experiments/executors/local.js";

describe("createExecutor: one factory for train, curriculum and study", () => {
  it("gives the local executor, or worker processes only, and refuses flags of another executor", async () => {
    expect(await createExecutor()).toBeInstanceOf(LocalExecutor);
    expect(await createExecutor({ executor: "local", jobs: 3 })).toBeInstanceOf(LocalExecutor);
    expect(await createExecutor({ executor: "local", processes: true })).toBeInstanceOf(LocalProcessExecutor);
    await expect(createExecutor({ wait: true })).rejects.toThrow(/--wait only applies to --executor slurm/);
    await expect(createExecutor({ executor: "slurm", redis: "redis://h:1" })).rejects.toThrow(
      /--redis only applies to --executor bullmq/,
    );
  });

  it("scores a sweep with the library in a worker process, as in this process; a bad sweep names the config", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "curricula-score-worker-"));
    const sweep = (experiment: string) => ({
      overrides: [
        "curriculum/scoring=Random",
        "curriculum.scoring.dataset=Digits",
        `experiment_id=${experiment}`,
        "correlation=null",
      ],
      cwd,
    });
    const lines: string[] = [];
    const executor = (await createExecutor({ executor: "local", processes: true })) as LocalProcessExecutor;
    const scores = await executor.score(sweep("worker"), { onOutput: (line) => lines.push(line) });
    const file = join(cwd, "results", "worker", "curriculum", "Random", "Random.csv");
    expect(scores).toEqual([{ id: "Random", type: "Random", scoreFile: file, matrices: [] }]);
    expect(lines.join("\n")).toMatch(/Scoring Digits/);
    const here = await new InProcessExecutor().score(sweep("here"));
    expect(here[0]?.scoreFile).toBe(join(cwd, "results", "here", "curriculum", "Random", "Random.csv"));
    expect(readFileSync(file, "utf8")).toBe(readFileSync(here[0]?.scoreFile as string, "utf8"));
    await expect(
      executor.score({ overrides: ["curriculum/scoring=Nope", "curriculum.scoring.dataset=Digits"], cwd }),
    ).rejects.toThrow(/curriculum\/scoring: no config named 'Nope'/);
    expect(existsSync(join(cwd, "results", "default"))).toBe(false);
  }, 300_000);
});
