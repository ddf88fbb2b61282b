/**
 * Whether the torch engine can be tested here. With CI set, a missing or broken build is a test
 * failure (CI builds it); elsewhere the torch tests are reported as skipped, with the reason printed.
 */
import { describe, it } from "vitest";
import { torchStatus } from "../../src/engine/torch/index.js";

export const torch = torchStatus();
export const onCI = Boolean(process.env.CI);

/** `describe` for torch tests: runs them when the engine is usable, fails on CI when it is not. */
export function describeTorch(name: string, body: () => void): void {
  if (torch.usable) {
    describe(name, body);
    return;
  }
  if (onCI) {
    describe(name, () => {
      it("needs the torch engine, which CI builds", () => {
        throw new Error(`the torch engine is not usable on CI: ${torch.reason}`);
      });
    });
    return;
  }
  console.warn(`skipping '${name}': ${torch.reason}`);
  describe.skip(name, body);
}
