import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createProgress,
  formatDuration,
  formatSnapshot,
  type ProgressSnapshot,
  progressEnabled,
  setProgressEnabled,
  setProgressSink,
  setStatusInterval,
  writeLine,
} from "../../src/util/progress.js";

function captureStderr(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("progress", () => {
  afterEach(() => {
    setProgressEnabled(true);
    setStatusInterval(10);
    setProgressSink(null);
    vi.restoreAllMocks();
  });

  it("writes plain lines to stderr when no bar is drawn", () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    writeLine("Dev results at epoch 1");
    expect(write).toHaveBeenCalledWith("Dev results at epoch 1\n");
  });

  it("draws nothing when progress is switched off (--no-progress)", () => {
    setProgressEnabled(false);
    setStatusInterval(0.001);
    expect(progressEnabled()).toBe(false);
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const bar = createProgress("Train", 10);
    bar.update(5, "loss 0.3");
    bar.stop();
    writeLine("after");
    expect(write.mock.calls).toEqual([["after\n"]]);
  });

  it("formats value, percentage, rate, ETA and info", () => {
    const s: ProgressSnapshot = {
      label: "Train",
      unit: "batches",
      value: 120,
      total: 340,
      info: "epoch 3/10 loss 0.1234",
      rate: 45.2,
      etaSeconds: 220 / 45.2,
    };
    expect(formatSnapshot(s)).toBe("Train 120/340 (35%) 45 batches/s ETA 5s epoch 3/10 loss 0.1234");
    expect(formatSnapshot({ ...s, value: 0, rate: 0, etaSeconds: null, info: "" }, { bar: 4 })).toBe(
      "Train [    ] 0/340 (0%) 0.0 batches/s ETA -",
    );
    expect(formatSnapshot({ ...s, rate: 2500 })).toContain("2.5k batches/s");
    expect([formatDuration(5), formatDuration(125), formatDuration(3725)]).toEqual(["5s", "2m05s", "1h02m"]);
  });

  it("prints a plain status line every interval when stderr is not a terminal", async () => {
    setStatusInterval(0.05);
    const lines = captureStderr();
    const bar = createProgress("Score", 4, { unit: "samples" });
    bar.increment(1, "first");
    expect(lines).toEqual([]); // not before the first interval
    await sleep(70);
    bar.increment(1, "second");
    bar.increment(1, "third"); // within the interval: no line
    await sleep(70);
    bar.increment(1, "fourth");
    bar.stop();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Score 2\/4 \(50%\) [\d.]+ samples\/s ETA \d+s second\n$/);
    expect(lines[1]).toMatch(/^Score 4\/4 \(100%\) [\d.]+ samples\/s ETA 0s fourth\n$/);
  });

  it("a resumed bar does not count the work done before it in its rate", async () => {
    const sent: ProgressSnapshot[][] = [];
    setProgressSink((bars) => sent.push(bars), 0);
    const bar = createProgress("Train", 1000, { initial: 900, unit: "batches" });
    await sleep(50);
    bar.increment(10);
    bar.stop();
    const first = sent[0]?.[0];
    expect(first?.value).toBe(910);
    // 10 batches in ~50 ms is ~200/s; counting the 900 resumed ones would give ~18,000/s.
    expect(first?.rate).toBeGreaterThan(20);
    expect(first?.rate).toBeLessThan(1000);
    expect(sent[sent.length - 1]).toEqual([]);
  });
});
