import { DomainError } from '@inv/contracts';

export interface ReadGateOptions {
  /** Expensive reads running at once (each holds a database connection while it runs). */
  concurrency: number;
  /** Reads allowed to wait for a place; one more is refused with SERVER_BUSY. */
  queue: number;
  /** Seconds a refused client is told to wait (`Retry-After`). */
  retryAfterSeconds?: number;
}

/**
 * A semaphore for a class of expensive reads (lists, aggregates). A burst of them takes at most `concurrency`
 * database connections, so writes keep theirs; past `queue` waiters the read is refused at once with
 * `SERVER_BUSY` (503, `Retry-After`) instead of piling up memory and latency.
 */
export class ReadGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: ReadGateOptions) {}

  get stats(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  private enter(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.queue) {
      const retryAfterSeconds = this.options.retryAfterSeconds ?? 1;
      return Promise.reject(
        new DomainError('SERVER_BUSY', 'too many expensive reads at once; retry shortly', {
          retryAfterSeconds,
        }),
      );
    }
    // The place is handed over by leave(), so `active` never drops below what is running.
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
