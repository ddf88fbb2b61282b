import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  clearLiveLines,
  createProgress,
  createRunBoard,
  formatDuration,
  formatSnapshot,
  type ProgressSnapshot,
  progressEnabled,
  setProgressEnabled,
  setProgressSink,
  setProgressStream,
  setStatusInterval,
  writeLine,
} from "../../src/util/progress.js";
import { FakeTerminal } from "../support/fake-terminal.js";

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

const BAR = /\[[= ]{20}\]/.source;

describe("progress on a terminal (cli-progress)", () => {
  let term: FakeTerminal;
  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubEnv("CI", "");
    term = new FakeTerminal();
    setProgressStream(term);
  });
  afterEach(() => {
    setProgressStream(null);
    vi.useRealTimers();
    vi.unstubAllEnvs();
    setProgressEnabled(true);
  });
  /** One redraw of the live lines (they are redrawn 10 times a second). */
  const redraw = () => vi.advanceTimersByTime(150);

  it("draws a bar with its label, bar, value, percentage, rate, ETA and info", () => {
    expect(progressEnabled()).toBe(true);
    const bar = createProgress("Train", 10, { unit: "batches" });
    bar.update(4, "epoch 1/2 loss 0.5000");
    redraw();
    expect(term.screen()).toEqual([expect.stringMatching(/^Train \[={8} {12}\] 4\/10 \(40%\) /)]);
    expect(term.screen()[0]).toMatch(/ [\d.]+k? batches\/s ETA (-|\d+s) epoch 1\/2 loss 0\.5000$/);
    bar.increment(1);
    redraw();
    expect(term.screen()).toEqual([expect.stringMatching(/^Train \[={10} {10}\] 5\/10 \(50%\) /)]);
    bar.stop();
  });

  it("draws nested bars as two lines, the outer one first", () => {
    const train = createProgress("Train", 10, { unit: "batches" });
    train.update(3, "epoch 1/2");
    const dev = createProgress("Dev", 50, { unit: "samples" });
    dev.update(25);
    redraw();
    const screen = term.screen();
    expect(screen).toHaveLength(2);
    expect(screen[0]).toMatch(new RegExp(`^Train ${BAR} 3/10 \\(30%\\) .* epoch 1/2$`));
    expect(screen[1]).toMatch(new RegExp(`^Dev ${BAR} 25/50 \\(50%\\) .* samples/s ETA `));
    dev.stop();
    // The inner bar's line is gone at once; the outer one stays.
    expect(term.screen()).toEqual([expect.stringMatching(/^Train .* 3\/10 /)]);
    train.stop();
  });

  it("prints writeLine above the bars at once, whole, and redraws the bars below it", () => {
    const train = createProgress("Train", 10, { unit: "batches" });
    const dev = createProgress("Dev", 4, { unit: "samples" });
    train.update(2);
    dev.update(1);
    redraw();
    const before = term.out.length;
    writeLine("Dev results at epoch 1: accuracy 0.9000");
    // Not held back until the next redraw.
    expect(term.out.slice(before)).toContain("Dev results at epoch 1: accuracy 0.9000\n");
    expect(term.screen()).toEqual([
      "Dev results at epoch 1: accuracy 0.9000",
      expect.stringMatching(/^Train .* 2\/10 \(20%\)/),
      expect.stringMatching(/^Dev .* 1\/4 \(25%\)/),
    ]);
    train.update(7);
    redraw();
    writeLine("second message");
    const out = term.out;
    expect(out.indexOf("Dev results at epoch 1")).toBeLessThan(out.indexOf("7/10"));
    expect(out.indexOf("7/10")).toBeLessThan(out.indexOf("second message"));
    expect(term.screen()).toEqual([
      "Dev results at epoch 1: accuracy 0.9000",
      "second message",
      expect.stringMatching(/^Train .* 7\/10 \(70%\)/),
      expect.stringMatching(/^Dev .* 1\/4 \(25%\)/),
    ]);
    dev.stop();
    train.stop();
  });

  it("leaves a clean terminal when the last bar stops; later lines go straight to the stream", () => {
    const bar = createProgress("Score", 8, { unit: "samples" });
    bar.update(3);
    redraw();
    writeLine("kept");
    bar.update(8);
    redraw();
    bar.stop();
    // Cleared from the first bar line down, and no redraw is left pending.
    expect(term.out.endsWith("\x1b[0J")).toBe(true);
    expect(term.screen()).toEqual(["kept"]);
    expect(vi.getTimerCount()).toBe(0);
    writeLine("after");
    expect(term.out.endsWith("\x1b[0Jafter\n")).toBe(true);
    expect(term.screen()).toEqual(["kept", "after"]);
    // A new bar starts a new set of lines below.
    const next = createProgress("Test", 2);
    redraw();
    expect(term.screen()).toEqual(["kept", "after", expect.stringMatching(/^Test .* 0\/2 \(0%\)/)]);
    next.stop();
    expect(term.screen()).toEqual(["kept", "after"]);
  });

  it("clearLiveLines clears the bars before an error message; a bar left running draws nothing more", () => {
    const bar = createProgress("Train", 10, { unit: "batches" });
    bar.update(4);
    redraw();
    expect(term.screen()).toEqual([expect.stringMatching(/^Train .* 4\/10 \(40%\)/)]);
    clearLiveLines();
    writeLine("error: something failed");
    expect(term.screen()).toEqual(["error: something failed"]);
    bar.update(5);
    redraw();
    expect(term.screen()).toEqual(["error: something failed"]);
    expect(vi.getTimerCount()).toBe(0);
    bar.stop();
  });

  it("fits a long line into the terminal's width", () => {
    const bar = createProgress("Train", 10);
    bar.update(1, "x".repeat(200));
    redraw();
    const [line] = term.screen();
    expect(line).toHaveLength(99);
    expect(line?.endsWith("x…")).toBe(true);
    bar.stop();
  });

  it("the run board shows a line per running run and drops a finished one", () => {
    const board = createRunBoard();
    expect(board).not.toBeNull();
    let value = 3;
    board?.set(0, "[1/3] run_a", () => `Train ${value}/12`);
    board?.set(1, "[2/3] run_b", () => "starting (1s)");
    redraw();
    expect(term.screen()).toEqual(["[1/3] run_a: Train 3/12", "[2/3] run_b: starting (1s)"]);
    // The text is asked again at every redraw.
    value = 9;
    redraw();
    expect(term.screen()).toEqual(["[1/3] run_a: Train 9/12", "[2/3] run_b: starting (1s)"]);
    board?.delete(0);
    writeLine("[1/3] done   run_a in 1.2s");
    board?.set(2, "[3/3] run_c", () => "starting (0s)");
    redraw();
    expect(term.screen()).toEqual([
      "[1/3] done   run_a in 1.2s",
      "[2/3] run_b: starting (1s)",
      "[3/3] run_c: starting (0s)",
    ]);
    board?.stop();
    expect(term.screen()).toEqual(["[1/3] done   run_a in 1.2s"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a run's line shortens a long run name in its middle so its progress fits", () => {
    const board = createRunBoard();
    const name = `[1/2] Digits_FFNN_Adam_0.001_32_epoch_10${"_None".repeat(10)}_seed_7`;
    const progress = "Train [=====               ] 3/12 (25%) 10.0 batches/s ETA 1s epoch 1/1";
    board?.set(0, name, () => progress);
    board?.set(1, "[2/2] short", () => "x".repeat(200));
    redraw();
    const [first, second] = term.screen();
    expect(first).toHaveLength(99);
    expect(first).toBe(`${name.slice(0, 13)}…${name.slice(-12)}: ${progress}`);
    // A label is kept to 24 characters at least; then the text is cut at the end.
    expect(second).toMatch(/^\[2\/2\] short: x{85}…$/);
    board?.stop();
  });

  it("draws nothing live when the stream is no terminal, in CI, or with --no-progress", () => {
    vi.stubEnv("CI", "true");
    expect(progressEnabled()).toBe(false);
    expect(createRunBoard()).toBeNull();
    vi.stubEnv("CI", "");
    setProgressEnabled(false);
    expect(createRunBoard()).toBeNull();
    const bar = createProgress("Train", 10);
    bar.update(5);
    redraw();
    bar.stop();
    expect(term.out).toBe("");
  });
});
