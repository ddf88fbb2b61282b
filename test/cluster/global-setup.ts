import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The cluster tests start SLURM and Redis themselves when nothing gave them (see services.ts).
 * A suite stops what it started: a service neither given (`.ci/run` exports its address) nor
 * already up when the suite began is stopped when the suite ends.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVICES = [
  { script: "slurm", variable: "CURRICULA_TEST_SLURM_CONF" },
  { script: "redis", variable: "CURRICULA_TEST_REDIS_URL" },
] as const;

function service(script: string, command: "running" | "stop"): boolean {
  const path = join(ROOT, ".ci", "services", `${script}.sh`);
  return spawnSync("bash", [path, command], { encoding: "utf8", timeout: 120_000 }).status === 0;
}

export default function setup(): () => void {
  const ours = SERVICES.filter((s) => !process.env[s.variable] && !service(s.script, "running"));
  return () => {
    for (const s of ours) {
      if (!service(s.script, "stop")) {
        process.stderr.write(
          `could not stop the ${s.script} service the tests started (.ci/services/${s.script}.sh stop)\n`,
        );
      }
    }
  };
}
