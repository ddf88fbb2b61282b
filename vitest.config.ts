import { defineConfig } from "vitest/config";
import { SummaryReporter } from "./test/support/summary-reporter.js";

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: "forks",
    maxWorkers: 2,
    // A test that makes no assertion fails (a loop over an empty array proves nothing).
    expect: { requireAssertions: true },
    reporters: ["default", new SummaryReporter()],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/cluster/**"],
          sequence: { groupOrder: 0 },
        },
      },
      // The cluster tests' jobs and workers use the machine's cores besides vitest's own workers:
      // they run after the rest, one file at a time, so neither slows the other past its time limit.
      {
        extends: true,
        test: {
          name: "cluster",
          include: ["test/cluster/**/*.test.ts"],
          fileParallelism: false,
          // Stops the SLURM and Redis services these tests started (not those given by .ci/run).
          globalSetup: ["test/cluster/global-setup.ts"],
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
