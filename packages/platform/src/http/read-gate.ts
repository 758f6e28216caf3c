import { DomainError } from '@inv/contracts';

export interface ReadGateOptions {
  /** Expensive reads running at once (each holds a database connection while it runs). */
  concurrency: number;
  /**
   * Reads running at once while a write is in flight (default `concurrency`). The process is one event loop:
   * each step of a write (its request, each statement's answer, its response) waits behind the read work ready
   * at that moment, so fewer reads beside writes is a shorter wait per step. Reads still run meanwhile.
   */
  concurrencyBesideWrites?: number;
  /** Reads allowed to wait for a place; one more is refused with SERVER_BUSY. */
  queue: number;
  /** Seconds a refused client is told to wait (`Retry-After`). */
  retryAfterSeconds?: number;
}

/**
 * A semaphore for a class of expensive reads (lists, aggregates). A burst of them takes at most `concurrency`
 * database connections, so writes keep theirs; past `queue` waiters the read is refused at once with
 * `SERVER_BUSY` (503, `Retry-After`) instead of piling up memory and latency. Writes announced with
 * `writeStarted` lower the places to `concurrencyBesideWrites` until they end: reads queue, writes never do.
 */
export class ReadGate {
  private active = 0;
  private writes = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: ReadGateOptions) {}

  get stats(): { active: number; waiting: number; writes: number } {
    return { active: this.active, waiting: this.waiting.length, writes: this.writes };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.hold();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Takes a place (waiting for one, or refused); the function returned gives it back, once. */
  async hold(): Promise<() => void> {
    await this.enter();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.leave();
    };
  }

  /** A write began: reads get `concurrencyBesideWrites` places until every write has ended. */
  writeStarted(): void {
    this.writes++;
  }

  writeEnded(): void {
    this.writes--;
    this.admit();
  }

  private get places(): number {
    return this.writes > 0
      ? (this.options.concurrencyBesideWrites ?? this.options.concurrency)
      : this.options.concurrency;
  }

  private enter(): Promise<void> {
    if (this.active < this.places && this.waiting.length === 0) {
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
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private leave(): void {
    this.active--;
    this.admit();
  }

  /** Hands free places to waiting reads, first come first served. */
  private admit(): void {
    while (this.active < this.places && this.waiting.length > 0) {
      this.active++;
      this.waiting.shift()!();
    }
  }
}
