import cliProgress from "cli-progress";

/**
 * Progress of long work (training batches, evaluation, scoring forward passes, preprocessing), with
 * rate and ETA, shown three ways:
 *
 * - on a terminal: live lines at the bottom of stderr, one per active bar (nested bars, e.g. an
 *   evaluation inside training, get a line each, the outer one first), drawn by cli-progress;
 * - when stderr is not a terminal (a log file, CI): a plain status line every few seconds
 *   (`setStatusInterval`), so long runs are never silent;
 * - in a worker process: snapshots sent to the parent (`setProgressSink`), which shows a line per
 *   run (`createRunBoard` on a terminal).
 *
 * `--no-progress` (or `progress_bar: false`) turns all of them off. Every message curricula prints
 * goes through `writeLine`, which prints above the live lines without tearing them.
 */
export interface Progress {
  update(value: number, info?: string): void;
  increment(by?: number, info?: string): void;
  /** Changes the total (e.g. when a curriculum changes the batches per epoch). */
  setTotal(total: number): void;
  stop(): void;
}

/** What a bar reports (sent by workers to their parent). */
export interface ProgressSnapshot {
  label: string;
  unit: string;
  value: number;
  total: number;
  info: string;
  /** Units per second since the bar started. */
  rate: number;
  /** Seconds left at the current rate; null before any progress. */
  etaSeconds: number | null;
}

interface Bar {
  label: string;
  unit: string;
  total: number;
  value: number;
  /** Value at the start (not counted in the rate). */
  base: number;
  info: string;
  started: number;
  lastPlain: number;
}

/**
 * What a live line shows in a terminal `columns` wide, asked at every redraw (so rates, ETAs and
 * timers stay current).
 */
type LineText = (columns: number) => string;

interface LiveLine {
  bar: cliProgress.SingleBar;
}

/** One cli-progress MultiBar per process, shared by `createProgress` and `createRunBoard`. */
interface Screen {
  multi: cliProgress.MultiBar;
  lines: LiveLine[];
}

/** The stream live lines and messages go to: stderr, or a fake terminal in tests. */
interface OutputStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
}

let globallyEnabled = true;
let statusIntervalMs = 10_000;
let sink: ((bars: ProgressSnapshot[]) => void) | null = null;
let sinkIntervalMs = 1000;
let lastSent = 0;
const active: Bar[] = [];
let output: OutputStream | null = null;
/** The live lines on the terminal now (none: null). */
let screen: Screen | null = null;
/** Redraws per second of the live lines. */
const FPS = 10;
const BAR_WIDTH = 20;

function stream(): OutputStream {
  return output ?? process.stderr;
}

/** Turns all progress output off (the CLI's `--no-progress`) or on again. */
export function setProgressEnabled(enabled: boolean): void {
  globallyEnabled = enabled;
}

/** True when progress is drawn as live lines (enabled, stderr a terminal, not CI). */
export function progressEnabled(): boolean {
  return globallyEnabled && Boolean(stream().isTTY) && !process.env.CI;
}

/** True unless progress was switched off (`--no-progress`). */
export function progressAllowed(): boolean {
  return globallyEnabled;
}

/** Seconds between plain status lines when stderr is not a terminal (default 10). */
export function setStatusInterval(seconds: number): void {
  statusIntervalMs = Math.max(0, seconds * 1000);
}

/**
 * Sends snapshots of the active bars to `fn` (at most every `intervalSeconds`, and when a bar
 * stops) instead of drawing them: worker processes report to their parent this way. null restores
 * drawing.
 */
export function setProgressSink(fn: ((bars: ProgressSnapshot[]) => void) | null, intervalSeconds = 1): void {
  sink = fn;
  sinkIntervalMs = intervalSeconds * 1000;
  lastSent = 0;
}

/**
 * Clears every live line from the terminal now (before an error message or on a signal, when
 * the work behind the bars is abandoned); bars created later draw again.
 */
export function clearLiveLines(): void {
  if (!screen) return;
  screen.multi.stop();
  screen = null;
}

/**
 * Where live lines and `writeLine` messages go instead of stderr (null: stderr again); for tests,
 * which pass a fake terminal. Live lines already drawn are cleared first.
 */
export function setProgressStream(next: OutputStream | null): void {
  clearLiveLines();
  output = next;
}

function snapshot(bar: Bar, now: number): ProgressSnapshot {
  const seconds = (now - bar.started) / 1000;
  const rate = seconds > 0 ? (bar.value - bar.base) / seconds : 0;
  const left = Math.max(0, bar.total - bar.value);
  return {
    label: bar.label,
    unit: bar.unit,
    value: bar.value,
    total: bar.total,
    info: bar.info,
    rate,
    etaSeconds: rate > 0 ? left / rate : null,
  };
}

/** `1h02m`, `3m05s`, `12s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

function formatRate(rate: number, unit: string): string {
  if (rate >= 1000) return `${(rate / 1000).toFixed(1)}k ${unit}/s`;
  return `${rate.toFixed(rate >= 10 ? 0 : 1)} ${unit}/s`;
}

/** One bar as text: `Train 120/340 (35%) 45 batches/s ETA 5s epoch 3/10`. */
export function formatSnapshot(s: ProgressSnapshot, options: { bar?: number } = {}): string {
  const fraction = s.total > 0 ? Math.min(1, s.value / s.total) : 0;
  const width = options.bar ?? 0;
  const filled = Math.round(fraction * width);
  const bar = width > 0 ? ` [${"=".repeat(filled)}${" ".repeat(width - filled)}]` : "";
  const eta = s.etaSeconds === null ? "ETA -" : `ETA ${formatDuration(s.etaSeconds)}`;
  const parts = [
    `${s.label}${bar} ${s.value}/${s.total} (${Math.round(fraction * 100)}%)`,
    formatRate(s.rate, s.unit),
    eta,
  ];
  if (s.info) parts.push(s.info);
  return parts.join(" ");
}

// ---------------------------------------------------------------------------------------------
// Live lines on a terminal: one cli-progress MultiBar per process, shared by the bars of
// `createProgress` and the lines of `createRunBoard`. It exists while at least one line does.

/** Fits a line into the terminal's width, so that no line wraps (which would shift the others). */
function fitWidth(line: string, columns: number): string {
  return line.length > columns - 1 ? `${line.slice(0, Math.max(0, columns - 2))}…` : line;
}

/** `label: text`, the label shortened in its middle (down to 24 characters) so the text fits. */
function fitLabelled(label: string, text: string, columns: number): string {
  const room = Math.max(24, columns - 1 - text.length - 2);
  if (label.length <= room) return `${label}: ${text}`;
  const head = Math.ceil((room - 1) / 2);
  return `${label.slice(0, head)}…${label.slice(label.length - (room - 1 - head))}: ${text}`;
}

/** The MultiBar keeps a redraw timer while lines are shown; it must not keep the process alive. */
function unrefTimer(multi: cliProgress.MultiBar): void {
  (multi as unknown as { timer: { unref?: () => void } | null }).timer?.unref?.();
}

function addLiveLine(text: LineText): LiveLine {
  if (!screen) {
    const multi = new cliProgress.MultiBar({
      stream: stream(),
      fps: FPS,
      format: (_options, params, payload: { text: LineText }) =>
        fitWidth(payload.text(params.maxWidth), params.maxWidth),
      // Every redraw writes every line: after a message printed above them, the lines move down
      // and each must be drawn again even where its text did not change.
      forceRedraw: true,
      clearOnComplete: true,
      // Leaves the cursor and line wrapping alone: a process killed by a signal cannot restore them.
      hideCursor: false,
      linewrap: true,
      gracefulExit: false,
    });
    multi.on("start", () => unrefTimer(multi));
    multi.on("update-post", () => unrefTimer(multi));
    screen = { multi, lines: [] };
  }
  const line: LiveLine = { bar: screen.multi.create(0, 0, { text }) };
  screen.lines.push(line);
  return line;
}

function removeLiveLine(line: LiveLine): void {
  if (!screen) return;
  const at = screen.lines.indexOf(line);
  if (at < 0) return;
  screen.lines.splice(at, 1);
  if (screen.lines.length > 0) {
    // Redraws the others and clears the line left over below them.
    screen.multi.remove(line.bar);
  } else {
    // The last line: the MultiBar clears all of its lines and is done; the next line starts a new one.
    screen.multi.stop();
    screen = null;
  }
}

function send(force: boolean): void {
  const now = performance.now();
  if (!sink || (!force && now - lastSent < sinkIntervalMs)) return;
  lastSent = now;
  sink(active.map((b) => snapshot(b, now)));
}

/**
 * Writes one line to stderr. While live lines are drawn it goes above them, and they are drawn
 * again below it at once (so the message is neither torn nor held back). Every message curricula
 * prints goes through here.
 */
export function writeLine(line: string): void {
  if (!screen) {
    stream().write(`${line}\n`);
    return;
  }
  screen.multi.log(`${line}\n`);
  screen.multi.update();
}

const noop: Progress = { update() {}, increment() {}, setTotal() {}, stop() {} };

export interface ProgressOptions {
  /** False (a config's `progress_bar: false`) makes the bar do nothing. Default true. */
  enabled?: boolean;
  /** What is counted, for the rate: batches, samples, files. Default "items". */
  unit?: string;
  /** Work already done before this bar started (a resumed run); not counted in the rate. */
  initial?: number;
}

/**
 * Starts a bar: `label` and the `total` amount of work. With `enabled` false or progress switched
 * off (`--no-progress`), it does nothing.
 */
export function createProgress(label: string, total: number, options: ProgressOptions = {}): Progress {
  if (options.enabled === false || !globallyEnabled) return noop;
  const now = performance.now();
  const initial = options.initial ?? 0;
  const bar: Bar = {
    label,
    unit: options.unit ?? "items",
    total,
    value: initial,
    base: initial,
    info: "",
    started: now,
    lastPlain: now,
  };
  active.push(bar);
  const live =
    !sink && progressEnabled()
      ? addLiveLine(() => formatSnapshot(snapshot(bar, performance.now()), { bar: BAR_WIDTH }))
      : null;
  const changed = () => {
    if (sink) send(false);
    else if (live) live.bar.update(bar.value);
    else {
      const t = performance.now();
      if (statusIntervalMs > 0 && t - bar.lastPlain >= statusIntervalMs) {
        bar.lastPlain = t;
        writeLine(formatSnapshot(snapshot(bar, t)));
      }
    }
  };
  let stopped = false;
  return {
    update(value, info) {
      if (stopped) return;
      bar.value = value;
      if (info !== undefined) bar.info = info;
      changed();
    },
    increment(by = 1, info) {
      if (stopped) return;
      bar.value += by;
      if (info !== undefined) bar.info = info;
      changed();
    },
    setTotal(next) {
      bar.total = next;
      live?.bar.setTotal(next);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      const at = active.indexOf(bar);
      if (at >= 0) active.splice(at, 1);
      if (sink) send(true);
      else if (live) removeLiveLine(live);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The parent of worker processes: a live line per running run.

/** Live lines for several jobs at once (e.g. the runs of `train --jobs N`), one per running job. */
export interface RunBoard {
  /**
   * Shows the line of job `id`, `label: text` (replacing its old one); `text` is asked at every
   * redraw. A label too long for the terminal is shortened in its middle.
   */
  set(id: number, label: string, text: () => string): void;
  /** Removes the line of job `id` (it ended). */
  delete(id: number): void;
  /** Removes every line. */
  stop(): void;
}

/**
 * A line per running job at the bottom of stderr, drawn with the bars of this process (messages
 * from `writeLine` go above them). null when progress is not drawn live (`progressEnabled()`
 * false): callers print plain status lines instead.
 */
export function createRunBoard(): RunBoard | null {
  if (!progressEnabled()) return null;
  const lines = new Map<number, LiveLine>();
  const drop = (id: number) => {
    const line = lines.get(id);
    if (!line) return;
    lines.delete(id);
    removeLiveLine(line);
  };
  return {
    set(id, label, text) {
      drop(id);
      lines.set(
        id,
        addLiveLine((columns) => fitLabelled(label, text(), columns)),
      );
    },
    delete: drop,
    stop() {
      for (const id of [...lines.keys()]) drop(id);
    },
  };
}

/** A running job's progress for its status line: the innermost bar in full, the outer ones short. */
function describeBars(bars: readonly ProgressSnapshot[], since: number): string {
  const inner = bars[bars.length - 1];
  if (!inner) return `starting (${formatDuration((performance.now() - since) / 1000)})`;
  const outer = bars
    .slice(0, -1)
    .reverse()
    .map((b) => `${b.label} ${b.value}/${b.total}${b.info ? ` ${b.info}` : ""}`);
  return [formatSnapshot(inner), ...outer].join(" | ");
}

/** Metric values as `<prefix>name=value` (4 decimals), leaving out the names `omit` accepts. */
export function formatMetrics(
  values: Record<string, number> | undefined,
  prefix = "",
  omit: (name: string) => boolean = () => false,
): string {
  if (!values) return "";
  return Object.entries(values)
    .filter(([k]) => !omit(k))
    .map(([k, v]) => `${prefix}${k}=${Number.isFinite(v) ? v.toFixed(4) : v}`)
    .join(" ");
}

/** The status of several running jobs (the runs of `train --jobs N`), one line per job. */
export interface RunStatus {
  /** Job `id` started; `label` names it (e.g. `[1/3] <run name>`). */
  start(id: number, label: string): void;
  /** The latest bars of job `id`. */
  progress(id: number, bars: ProgressSnapshot[]): void;
  /** Job `id` ended. */
  end(id: number): void;
  /** Removes the live lines and stops the printed ones. */
  stop(): void;
}

/**
 * A line per running job: live at the bottom of a terminal (`live`, when the caller's messages go
 * to stderr too), else `label: bars` printed through `log` every `intervalSeconds` (0: never).
 */
export function createRunStatus(
  log: (line: string) => void,
  options: { live: boolean; intervalSeconds: number },
): RunStatus {
  const running = new Map<number, { label: string; bars: ProgressSnapshot[]; since: number }>();
  const board = options.live ? createRunBoard() : null;
  const timer =
    !board && options.intervalSeconds > 0
      ? setInterval(() => {
          for (const [, job] of [...running.entries()].sort((a, b) => a[0] - b[0])) {
            log(`${job.label}: ${describeBars(job.bars, job.since)}`);
          }
        }, options.intervalSeconds * 1000)
      : null;
  timer?.unref();
  return {
    start(id, label) {
      const job = { label, bars: [] as ProgressSnapshot[], since: performance.now() };
      running.set(id, job);
      board?.set(id, label, () => describeBars(job.bars, job.since));
    },
    progress(id, bars) {
      const job = running.get(id);
      if (job) job.bars = bars;
    },
    end(id) {
      running.delete(id);
      board?.delete(id);
    },
    stop() {
      if (timer) clearInterval(timer);
      board?.stop();
    },
  };
}
