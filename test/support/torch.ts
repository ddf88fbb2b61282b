/**
 * The torch engine as a system dependency of the tests (test/support/system.ts `describeWith`): usable
 * when the addon of native/torch is built and loads (`npm run build:torch`); CI builds it.
 */
import { torchStatus } from "../../src/engine/torch/index.js";
import type { SystemDependency } from "./system.js";

export const torch = torchStatus();

export const torchEngine: SystemDependency = {
  name: "the torch engine (apt-get install libtorch-dev libopenblas0-pthread && npm run build:torch)",
  problem: torch.usable ? null : torch.reason,
};
