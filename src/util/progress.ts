/**
 * Progress of long work (training batches, evaluation, scoring forward passes, preprocessing), with
 * rate and ETA, shown three ways:
 *
 * - on a terminal: one status line at the bottom of stderr, redrawn as work advances (nested bars,
 *   e.g. an evaluation inside training, share the line: the innermost first);
 * - when stderr is not a terminal (a log file, CI): a plain status line every few seconds
 *   (`setStatusInterval`), so long runs are never silent;
 * - in a worker process: snapshots sent to the parent (`setProgressSink`), which prints a line per
 *   run.
 *
 * `--no-progress` (or `progress_bar: false`) turns all of them off. Every message curricula prints
 * goes through `writeLine`, which never tears the status line.
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

let globallyEnabled = true;
let statusIntervalMs = 10_000;
let sink: ((bars: ProgressSnapshot[]) => void) | null = null;
let sinkIntervalMs = 1000;
let lastSent = 0;
const active: Bar[] = [];
/** A status line is on the terminal right now. */
let drawn = false;
let lastDraw = 0;
const DRAW_INTERVAL_MS = 100;

/** Turns all progress output off (the CLI's `--no-progress`) or on again. */
export function setProgressEnabled(enabled: boolean): void {
  globallyEnabled = enabled;
}

/** True when progress is drawn as a live status line (enabled, stderr a terminal, not CI). */
export function progressEnabled(): boolean {
  return globallyEnabled && Boolean(process.stderr.isTTY) && !process.env.CI;
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

function statusLine(now: number): string {
  const [inner, ...outer] = [...active].reverse();
  if (!inner) return "";
  const head = formatSnapshot(snapshot(inner, now), { bar: 20 });
  const tail = outer.map((b) => `${b.label} ${b.value}/${b.total}${b.info ? ` ${b.info}` : ""}`);
  const line = [head, ...tail].join(" | ");
  const columns = process.stderr.columns || 120;
  return line.length > columns - 1 ? `${line.slice(0, Math.max(0, columns - 2))}…` : line;
}

function draw(force = false): void {
  const now = performance.now();
  if (!force && now - lastDraw < DRAW_INTERVAL_MS) return;
  lastDraw = now;
  const line = statusLine(now);
  process.stderr.write(`\r\x1b[2K${line}`);
  drawn = line.length > 0;
}

function clearLine(): void {
  if (drawn) process.stderr.write("\r\x1b[2K");
  drawn = false;
}

function send(force: boolean): void {
  const now = performance.now();
  if (!sink || (!force && now - lastSent < sinkIntervalMs)) return;
  lastSent = now;
  sink(active.map((b) => snapshot(b, now)));
}

/**
 * Writes one line to stderr without tearing the status line: the line is cleared, the text
 * written, and the status drawn again below it. Every message curricula prints goes through here.
 */
export function writeLine(line: string): void {
  if (!drawn) {
    process.stderr.write(`${line}\n`);
    return;
  }
  process.stderr.write(`\r\x1b[2K${line}\n`);
  drawn = false;
  draw(true);
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
  const live = !sink && progressEnabled();
  const changed = () => {
    if (sink) send(false);
    else if (live) draw();
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
    },
    stop() {
      if (stopped) return;
      stopped = true;
      const at = active.indexOf(bar);
      if (at >= 0) active.splice(at, 1);
      if (sink) send(true);
      else if (live) {
        if (active.length === 0) clearLine();
        else draw(true);
      }
    },
  };
}
