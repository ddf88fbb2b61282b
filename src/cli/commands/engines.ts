import type { Command } from "commander";
import { out } from "../shared.js";

/** `curricula engines [--json]`: each tensor engine, whether it is usable here, version, devices, why not. */
export function register(program: Command): void {
  program
    .command("engines")
    .description("list the tensor engines (wasm, torch): usable or not, version, devices, and why not")
    .option("--json", "print the listing as JSON")
    .action(async (options: { json?: boolean }) => {
      const { listEngines, threadPlan } = await import("../../engine/index.js");
      const engines = await listEngines();
      const plan = threadPlan(null);
      if (options.json) {
        out(JSON.stringify({ engines, threads: plan }, null, 2));
        return;
      }
      const lines = engines.map((e) =>
        [
          `${e.name}: ${e.usable ? "usable" : "not usable"}`,
          `  version: ${e.version ?? "-"}`,
          `  devices: ${e.devices.length > 0 ? e.devices.join(", ") : "-"}`,
          `  ${e.usable ? "runs on" : "why not"}: ${e.detail}`,
        ].join("\n"),
      );
      out(
        `${lines.join("\n")}\nthreads: ${plan.reason}; torch: ${plan.intraOp} intra-op, ${plan.interOp} inter-op, ${plan.blas} BLAS thread(s); k-NN: up to ${plan.share} thread(s) in all\n` +
          "Choose one with engine=auto|wasm|torch (default auto: torch when built, else wasm), device=cpu|cuda|cuda:N, threads=auto|N.",
      );
    });
}
