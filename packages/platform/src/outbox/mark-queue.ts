/** An outbox row acked by the stream, with the stream sequence it was stored at. */
export interface Published {
  id: string;
  seq: number;
}

/**
 * Marks published rows shortly after they are acked: one UPDATE at a time, for every row acked within `delayMs`
 * of the first one or while the previous UPDATE ran (at most `size`), so neither publishing nor reading waits for
 * marking, and one aggregate's events, acked one after the other, do not cost an UPDATE each.
 */
export class MarkQueue {
  private pending: Published[] = [];
  private marking: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly mark: (published: Published[]) => Promise<void>,
    private readonly size: number,
    private readonly delayMs: number,
    private readonly failed: (error: unknown) => void,
  ) {}

  add(published: Published): void {
    this.pending.push(published);
    this.schedule();
  }

  /** Resolves once every row added so far is marked (or its UPDATE failed). */
  async flush(): Promise<void> {
    while (this.timer || this.marking) {
      if (this.timer) this.start();
      await this.marking;
    }
  }

  private schedule(): void {
    if (this.marking || this.pending.length === 0) return;
    if (this.pending.length >= this.size || this.delayMs === 0) this.start();
    else this.timer ??= setTimeout(() => this.start(), this.delayMs);
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.marking ??= this.markPending();
  }

  private async markPending(): Promise<void> {
    try {
      await this.mark(this.pending.splice(0, this.size));
    } catch (error) {
      // Unmarked rows are read and published again after the relay restarts; the stream drops them by id.
      this.pending = [];
      this.failed(error);
    } finally {
      this.marking = null;
      this.schedule();
    }
  }
}
