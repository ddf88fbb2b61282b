/**
 * Wall-clock timers for the train, dev and test phases (autrainer's Timer): `timer.yaml` holds the
 * mean and total per phase. Totals are part of the trainer state, so a resumed run keeps counting.
 */
export interface TimerState {
  totalSeconds: number;
  count: number;
}

export class PhaseTimer {
  private started: bigint | null = null;
  totalSeconds = 0;
  count = 0;

  constructor(readonly name: string) {}

  start(): void {
    this.started = process.hrtime.bigint();
  }

  stop(): void {
    if (this.started === null) throw new Error(`timer '${this.name}' stopped without being started`);
    this.totalSeconds += Number(process.hrtime.bigint() - this.started) / 1e9;
    this.count++;
    this.started = null;
  }

  getState(): TimerState {
    return { totalSeconds: this.totalSeconds, count: this.count };
  }

  setState(state: TimerState): void {
    this.totalSeconds = state.totalSeconds;
    this.count = state.count;
  }

  /** `{mean: "H:MM:SS", mean_seconds, total: "H:MM:SS", total_seconds}`. */
  summary(): Record<string, string | number> {
    const mean = this.count > 0 ? this.totalSeconds / this.count : 0;
    return {
      mean: prettyTime(mean),
      mean_seconds: round(mean),
      total: prettyTime(this.totalSeconds),
      total_seconds: round(this.totalSeconds),
    };
  }
}

/** `H:MM:SS` of whole seconds, as autrainer's pretty_time. */
export function prettyTime(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
