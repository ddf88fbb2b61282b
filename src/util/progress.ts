import cliProgress from "cli-progress";

/**
 * Progress bars for long work. Shown on stderr only when it is a TTY and progress is enabled
 * (`--no-progress` or `progress_bar: false` turn it off); otherwise every call is a no-op.
 */
export interface Progress {
  update(value: number, info?: string): void;
  increment(by?: number, info?: string): void;
  stop(): void;
}

let globallyEnabled = true;

/** Turns all progress bars off (the CLI's `--no-progress`). */
export function setProgressEnabled(enabled: boolean): void {
  globallyEnabled = enabled;
}

export function progressEnabled(): boolean {
  return globallyEnabled && Boolean(process.stderr.isTTY) && !process.env.CI;
}

const noop: Progress = { update() {}, increment() {}, stop() {} };

/** The bars drawn right now; log lines are written above them. */
const activeBars = new Set<cliProgress.SingleBar>();

/**
 * Writes one line to stderr without tearing a progress bar: the bar's line is cleared, the text
 * written, and the bar drawn again below it. Every message curricula prints goes through here.
 */
export function writeLine(line: string): void {
  if (activeBars.size === 0) {
    process.stderr.write(`${line}\n`);
    return;
  }
  // Clear the bar's line, write the text, and save the new bar position (cli-progress returns the
  // cursor to its saved position when it stops).
  process.stderr.write(`\r\x1b[2K${line}\n\x1b7`);
  for (const bar of activeBars) {
    // cli-progress only redraws when its text changed; forget the last drawing to force one.
    (bar as unknown as { lastDrawnString: string }).lastDrawnString = "";
    bar.render();
  }
}

/** Starts a bar `label [====    ] value/total info`. */
export function createProgress(label: string, total: number, enabled = true): Progress {
  if (!enabled || !progressEnabled()) return noop;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {info}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { info: "" });
  activeBars.add(bar);
  return {
    update: (value, info) => bar.update(value, { info: info ?? "" }),
    increment: (by = 1, info) => bar.increment(by, { info: info ?? "" }),
    stop: () => {
      activeBars.delete(bar);
      bar.stop();
    },
  };
}
