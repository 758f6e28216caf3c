/** An aggregate and when the database computed it. */
export interface Computed<T> {
  value: T;
  at: Date;
}

export interface AggregateCacheOptions {
  /** How long a large aggregate is served before it is recomputed (in the background). */
  ttlMs: number;
  /** Aggregates over fewer rows than this are never kept: they are cheap, and stay exact. */
  minRows: number;
  /** Keys kept at most; the oldest goes first. */
  maxKeys: number;
  now?: () => number;
}

interface Entry {
  computed: Computed<unknown>;
  /** How long the last computation took: an aggregate is refreshed at most once per `COST_FACTOR` of it. */
  costMs: number;
  refreshing: Promise<unknown> | null;
}

/**
 * A kept aggregate is older than the TTL before it is refreshed, and also at least this many times as old as
 * its last computation took: the background refreshes of one key take at most 1/COST_FACTOR of a connection.
 */
const COST_FACTOR = 10;

/**
 * Totals over a large set (a unit of measure holds half the catalogue) cost a scan of that set. This keeps each
 * large aggregate for `ttlMs` and recomputes it in the background once it is older (stale-while-revalidate), so
 * a burst of the same read costs one aggregate, and readers never wait on a recomputation after the first; an
 * aggregate that takes long is refreshed less often (COST_FACTOR), and background refreshes run one at a time.
 * Concurrent first reads of a key share one computation. Small aggregates are computed every time.
 * One cache holds aggregates of several kinds (per-warehouse totals, a low-stock count): a key names its kind,
 * and each `get` says the type of its value; `T` is the type of the values when there is one kind.
 */
export class AggregateCache<T = unknown> {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Computed<unknown>>>();
  /** The background refreshes, one after the other (see `get`). */
  private refreshes: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: AggregateCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  async get<V extends T>(
    key: string,
    compute: () => Promise<V>,
    rowsOf: (value: V) => number,
  ): Promise<Computed<V>> {
    const entry = this.entries.get(key);
    if (entry) {
      const age = this.now() - entry.computed.at.getTime();
      if (age >= Math.max(this.options.ttlMs, COST_FACTOR * entry.costMs) && !entry.refreshing) {
        // Queued behind the other keys' refreshes: when many aggregates fall due together (a burst of broad
        // reads after a pause), their scans run one at a time instead of all at once on every core, which
        // stalled the writes beside them (bench `scale`, mixed phase).
        const refresh = this.refreshes.then(() => this.load(key, compute, rowsOf));
        this.refreshes = refresh.catch(() => undefined);
        entry.refreshing = refresh
          .catch(() => undefined)
          .finally(() => {
            entry.refreshing = null;
          });
      }
      return entry.computed as Computed<V>;
    }
    return this.load(key, compute, rowsOf);
  }

  private load<V>(
    key: string,
    compute: () => Promise<V>,
    rowsOf: (value: V) => number,
  ): Promise<Computed<V>> {
    const running = this.pending.get(key) as Promise<Computed<V>> | undefined;
    if (running) return running;
    const loading = (async () => {
      const at = new Date(this.now());
      const value = await compute();
      const computed = { value, at };
      if (rowsOf(value) >= this.options.minRows) this.keep(key, computed, this.now() - at.getTime());
      else this.entries.delete(key);
      return computed;
    })().finally(() => this.pending.delete(key));
    this.pending.set(key, loading);
    return loading;
  }

  private keep(key: string, computed: Computed<unknown>, costMs: number): void {
    const entry = this.entries.get(key);
    if (entry) {
      entry.computed = computed;
      entry.costMs = costMs;
      return;
    }
    if (this.entries.size >= this.options.maxKeys) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { computed, costMs, refreshing: null });
  }
}

/**
 * The aggregate `key` from `cache` (kept, shared, refreshed in the background), or computed now when there is no
 * cache (`TOTALS_CACHE_MS=0`); either way with the time it was computed.
 */
export async function aggregateOf<V>(
  cache: AggregateCache | undefined,
  key: string,
  compute: () => Promise<V>,
  rowsOf: (value: V) => number,
  now: Date = new Date(),
): Promise<Computed<V>> {
  return cache ? cache.get(key, compute, rowsOf) : { value: await compute(), at: now };
}
