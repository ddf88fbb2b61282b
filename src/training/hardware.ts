import { arch, cpus, type as osType, platform, release, totalmem } from "node:os";
import { checkpointEngine, hasModelCheckpoint } from "../engine/checkpoint.js";
import type { EngineInfo } from "../engine/types.js";
import { ConfigError } from "../util/errors.js";

/** The machine and engine a run was trained on (`hardware.yaml`), for comparing timings. */
export function hardwareInfo(engine: EngineInfo | null): Record<string, unknown> {
  return {
    system: {
      os: `${osType()} ${release()}`,
      platform: `${platform()}-${arch()}`,
      memory_gb: Math.round((totalmem() / 1024 ** 3) * 100) / 100,
      cpu_count: cpus().length,
      cpu_model: cpus()[0]?.model ?? "unknown",
      node: process.version,
    },
    engine: engine
      ? {
          ...(engine.engine ? { name: engine.engine } : {}),
          backend: engine.backend,
          simd: engine.simd,
          version: engine.version,
          ...(engine.device ? { device: engine.device } : {}),
          ...(engine.threads ? { threads: engine.threads } : {}),
          ...(engine.threadPlan
            ? {
                thread_plan: {
                  requested: engine.threadPlan.requested,
                  share: engine.threadPlan.share,
                  intra_op: engine.threadPlan.intraOp,
                  inter_op: engine.threadPlan.interOp,
                  blas: engine.threadPlan.blas,
                  reason: engine.threadPlan.reason,
                },
              }
            : {}),
        }
      : null,
    gpu: engine?.device?.startsWith("cuda") ? engine.device : null,
  };
}

/**
 * A run resumes only on the engine that wrote its checkpoint: the other engine's numbers differ in
 * the last bits, so the resumed run would match neither engine's uninterrupted run.
 */
export async function refuseOtherEngine(checkpointDir: string, engine: EngineInfo): Promise<void> {
  if (!engine.engine || !hasModelCheckpoint(checkpointDir)) return;
  const saved = await checkpointEngine(checkpointDir);
  if (saved === engine.engine) return;
  throw new ConfigError(
    "engine",
    `the unfinished run in ${checkpointDir} was trained on the ${saved} engine; resuming it on ${engine.engine} is refused (it would continue neither engine's run exactly). Resume with engine=${saved}, or delete the run folder to train it again on ${engine.engine}. Finished runs can be scored and evaluated on either engine.`,
  );
}
