import type { Logger } from 'pino';

/** Something a service starts after its connections are up and stops before it closes them. */
export interface Worker {
  start(): void;
  stop(): Promise<void>;
}

export interface PeriodicJobOptions<T> {
  /** One run of the job. */
  run: () => Promise<T>;
  /** Time between runs; 0 (or less) turns the schedule off, `runNow` still works. */
  intervalMs: number;
  logger: Logger;
  /** The log line of a failed scheduled run (the next run tries again). */
  failureMessage: string;
  /** `debug` for a job whose failures another signal reports already; `warn` by default. */
  failureLevel?: 'warn' | 'debug';
  /** Runs once on `start` too, instead of first after one interval. */
  runAtStart?: boolean;
}

/**
 * Runs a job every `intervalMs` in the background (the timer does not keep the process alive). Runs never
 * overlap: a tick that finds a run still going (a large backlog, a slow dependency) is skipped, and `runNow`
 * waits for it. `stop` clears the timer and waits for the run in progress, so nothing runs after it.
 */
export class PeriodicJob<T = unknown> implements Worker {
  private timer: NodeJS.Timeout | null = null;
  /** The last run queued; it never rejects (its failure went to whoever asked for it). */
  private running: Promise<unknown> | null = null;

  constructor(private readonly o: PeriodicJobOptions<T>) {}

  start(): void {
    if (this.o.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref();
    if (this.o.runAtStart) this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /**
   * One run now (of the job, or of `run`, e.g. the job with other arguments), after the run in progress if there
   * is one; rejects with the run's error.
   */
  runNow(run: () => Promise<T> = this.o.run): Promise<T> {
    const result = (this.running ?? Promise.resolve()).then(run);
    const settled: Promise<unknown> = result
      .catch(() => undefined)
      .finally(() => {
        if (this.running === settled) this.running = null;
      });
    this.running = settled;
    return result;
  }

  private tick(): void {
    if (this.running) return;
    this.runNow().catch((error: unknown) =>
      this.o.logger[this.o.failureLevel ?? 'warn']({ err: error }, this.o.failureMessage),
    );
  }
}
