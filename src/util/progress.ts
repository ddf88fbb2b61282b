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
  return {
    update: (value, info) => bar.update(value, { info: info ?? "" }),
    increment: (by = 1, info) => bar.increment(by, { info: info ?? "" }),
    stop: () => bar.stop(),
  };
}
