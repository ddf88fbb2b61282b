/**
 * The thread plan of `threads: auto` (src/engine/threads.ts): each process's share of the cores
 * (--jobs / a worker's concurrency through CURRICULA_PROCESSES, SLURM_CPUS_PER_TASK), pools whose
 * product stays within it, and hardware.yaml recording what was chosen and why.
 */
import { describe, expect, it } from "vitest";
import { engineInfo, initEngine } from "../../src/engine/index.js";
import { coreShare, planThreads, sharedProcessEnv } from "../../src/engine/threads.js";
import { hardwareInfo } from "../../src/training/hardware.js";

describe("thread share", () => {
  it("one process on an idle machine gets every core", () => {
    const plan = planThreads({ cores: 8, env: {}, requested: "auto" });
    expect(plan).toMatchObject({ requested: "auto", share: 8, intraOp: 8, interOp: 1, blas: 1 });
    expect(plan.reason).toBe("auto: 8 threads (8 cores)");
  });

  it("N processes started together (--jobs, worker concurrency) each get cores / N", () => {
    const plan = planThreads({ cores: 8, env: { CURRICULA_PROCESSES: "3" }, requested: "auto" });
    expect(plan.share).toBe(2);
    expect(plan.reason).toContain("8 cores shared by 3 processes");
    expect(planThreads({ cores: 2, env: { CURRICULA_PROCESSES: "4" }, requested: null }).share).toBe(1);
  });

  it("SLURM's cpus-per-task is the base of the share", () => {
    const plan = planThreads({ cores: 64, env: { SLURM_CPUS_PER_TASK: "4" }, requested: "auto" });
    expect(plan.intraOp).toBe(4);
    expect(plan.reason).toContain("SLURM_CPUS_PER_TASK=4");
    const bad = coreShare({ cores: 6, env: { SLURM_CPUS_PER_TASK: "x" } });
    expect(bad.share).toBe(6);
  });

  it("the pools' product never exceeds the share, for auto and for any configured count", () => {
    for (const cores of [1, 2, 3, 8, 16])
      for (const requested of ["auto", 1, 2, 5] as const) {
        const plan = planThreads({ cores, env: {}, requested });
        if (requested === "auto")
          expect(plan.intraOp * plan.interOp * plan.blas).toBeLessThanOrEqual(plan.share);
        else
          expect(plan.interOp * plan.blas * Math.min(plan.intraOp, plan.share)).toBeLessThanOrEqual(
            plan.share,
          );
        expect(plan.interOp).toBe(1);
      }
    const explicit = planThreads({ cores: 4, env: {}, requested: 1 });
    expect(explicit).toMatchObject({ requested: 1, intraOp: 1, blas: 4 });
    expect(explicit.reason).toBe("threads=1 as configured (share 4: 4 cores)");
  });

  it("a child's environment multiplies the processes into what its parent already shares", () => {
    expect(sharedProcessEnv(2, { A: "1" })).toEqual({ A: "1", CURRICULA_PROCESSES: "2" });
    expect(sharedProcessEnv(3, { CURRICULA_PROCESSES: "2" }).CURRICULA_PROCESSES).toBe("6");
    expect(sharedProcessEnv(1, { A: "1" })).toEqual({ A: "1" });
  });
});

describe("hardware.yaml", () => {
  it("records the thread plan the engine started with, and why", async () => {
    await initEngine({ engine: "wasm" });
    const info = engineInfo();
    expect(info?.threadPlan?.requested).toBe("auto");
    const engine = hardwareInfo(info).engine as Record<string, unknown>;
    expect(engine.thread_plan).toEqual({
      requested: "auto",
      share: info?.threadPlan?.share,
      intra_op: info?.threadPlan?.intraOp,
      inter_op: 1,
      blas: 1,
      reason: info?.threadPlan?.reason,
    });
    expect(String((engine.thread_plan as { reason: string }).reason)).toMatch(/^auto: \d+ threads? \(/);
  });
});
