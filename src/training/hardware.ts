import { arch, cpus, type as osType, platform, release, totalmem } from "node:os";
import type { EngineInfo } from "../engine/types.js";

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
    engine: engine ? { backend: engine.backend, simd: engine.simd, version: engine.version } : null,
    gpu: null,
  };
}
