import { afterEach, describe, expect, it, vi } from "vitest";
import { createProgress, progressEnabled, setProgressEnabled, writeLine } from "../../src/util/progress.js";

describe("progress", () => {
  afterEach(() => {
    setProgressEnabled(true);
    vi.restoreAllMocks();
  });

  it("writes plain lines to stderr when no bar is drawn", () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    writeLine("Dev results at epoch 1");
    expect(write).toHaveBeenCalledWith("Dev results at epoch 1\n");
  });

  it("draws nothing when progress is switched off (--no-progress)", () => {
    setProgressEnabled(false);
    expect(progressEnabled()).toBe(false);
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const bar = createProgress("Train", 10);
    bar.update(5, "loss 0.3");
    bar.stop();
    writeLine("after");
    expect(write.mock.calls).toEqual([["after\n"]]);
  });
});
