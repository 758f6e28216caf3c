export interface CombinerOptions {
  /** Combined statements running at once; 0 writes every request in a statement of its own. */
  statements: number;
  /** Requests per combined statement at most. */
  maxRequests?: number;
  /** Observes the requests of every statement the combiner runs. */
  requestsPerStatement?: { observe(requests: number): void };
}

/** What a combined statement says of one of its requests: its answer, its refusal, or "run it alone". */
export type CombinedAnswer<R> = { ok: true; answer: R } | { ok: false; error: unknown } | 'alone';

/**
 * How requests of one kind are written: alone, or several in one all-or-nothing statement. `together` answers
 * each request in order. A refused statement wrote nothing: a request it shows could not succeed alone either
 * (e.g. it asks for more than its record held) gets its refusal, every other one is run alone.
 */
export interface CombinedWrites<T, R> {
  alone(request: T): Promise<R>;
  together(requests: T[]): Promise<CombinedAnswer<R>[]>;
}

interface Waiting<T, R> {
  request: T;
  resolve: (answer: R) => void;
  reject: (error: unknown) => void;
}

const DEFAULT_MAX_REQUESTS = 64;

/**
 * Writes concurrent requests together: while `statements` statements run, the requests that arrive wait and go
 * together in the next one — one round trip, commit and row lock of each record for up to `maxRequests`
 * instead of one each. A request that finds a free slot runs at once, so a quiet service adds no wait. A refused
 * combined statement wrote nothing: its requests that could have passed alone run again alone.
 */
export class StatementCombiner<T, R> {
  private readonly queue: Waiting<T, R>[] = [];
  private running = 0;
  private readonly maxRequests: number;

  constructor(
    private readonly writes: CombinedWrites<T, R>,
    private readonly options: CombinerOptions,
  ) {
    this.maxRequests = options.maxRequests ?? DEFAULT_MAX_REQUESTS;
  }

  write(request: T): Promise<R> {
    if (this.options.statements === 0) return this.writes.alone(request);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.startStatements();
    });
  }

  private startStatements(): void {
    while (this.running < this.options.statements && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxRequests);
      this.running++;
      void this.run(batch).finally(() => {
        this.running--;
        this.startStatements();
      });
    }
  }

  private async run(batch: Waiting<T, R>[]): Promise<void> {
    this.options.requestsPerStatement?.observe(batch.length);
    if (batch.length === 1) return this.runAlone(batch[0]!);
    let answers: CombinedAnswer<R>[];
    try {
      answers = await this.writes.together(batch.map((w) => w.request));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    const alone: Promise<void>[] = [];
    batch.forEach((waiting, i) => {
      const answer = answers[i]!;
      if (answer === 'alone') alone.push(this.runAlone(waiting));
      else if (answer.ok) waiting.resolve(answer.answer);
      else waiting.reject(answer.error);
    });
    await Promise.all(alone);
  }

  private async runAlone(waiting: Waiting<T, R>): Promise<void> {
    await this.writes.alone(waiting.request).then(waiting.resolve, waiting.reject);
  }
}
