/**
 * At most `limit` holders at a time; the others wait in order. Bounds how many replays and backfills read the
 * stream at once, so that a reconnect storm neither creates thousands of consumers in the same second nor
 * holds thousands of prefetched batches in memory.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` stays as it is.
      if (next) next();
      else this.active--;
    };
  }

  get queued(): number {
    return this.waiting.length;
  }
}

/**
 * A slot of a semaphore that its holder can give back while it waits for something that is not the resource
 * (a client's full socket), and take again after, so that a stalled holder never blocks the others.
 */
export class LendableSlot {
  private constructor(
    private readonly semaphore: Semaphore,
    private release: (() => void) | null,
  ) {}

  private finished = false;

  static async take(semaphore: Semaphore): Promise<LendableSlot> {
    return new LendableSlot(semaphore, await semaphore.acquire());
  }

  async whileReleased<T>(wait: () => Promise<T>): Promise<T> {
    this.release?.();
    this.release = null;
    try {
      return await wait();
    } finally {
      const release = await this.semaphore.acquire();
      if (this.finished) release();
      else this.release = release;
    }
  }

  get held(): boolean {
    return this.release !== null;
  }

  done(): void {
    this.finished = true;
    this.release?.();
    this.release = null;
  }
}
