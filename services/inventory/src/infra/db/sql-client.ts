import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from 'pino';

/** Where hand-written SQL runs: the service's own pool (each statement its own transaction) or an ORM transaction. */
export interface SqlClient {
  /** True when every statement commits on its own: a failed statement leaves nothing to roll back. */
  readonly autocommit: boolean;
  /** Runs `text` with `$1`-style parameters; `name` makes it a prepared statement where the client can. */
  query<T>(text: string, values: unknown[], name?: string): Promise<T[]>;
  /** Called after an autocommitted statement queued outbox rows: wakes the relays. */
  committed?(): void;
}

/**
 * The service's pool (or one of its connections): one round trip per statement, prepared once per connection
 * when named.
 */
export function poolClient(pool: pg.Pool | pg.PoolClient, committed?: () => void): SqlClient {
  return {
    autocommit: true,
    committed,
    async query<T>(text: string, values: unknown[], name?: string) {
      const result = await pool.query({ text, values, name });
      return result.rows as T[];
    },
  };
}

/**
 * The transaction an EntityManager is in (the command's, with an Idempotency-Key; the inbox consumer's), through
 * knex, which wants `?` placeholders: `$n` are rewritten and their values repeated in order of appearance. A
 * named statement is prepared once per connection there too (knex hands `name` to `pg`): the movement
 * statement took ~10 ms of PostgreSQL's planning per call unprepared on a loaded machine.
 */
export function entityManagerClient(em: EntityManager): SqlClient {
  return {
    autocommit: false,
    async query<T>(text: string, values: unknown[], name?: string) {
      const bindings: unknown[] = [];
      const positional = text.replace(/\$(\d+)/g, (_, n: string) => {
        bindings.push(values[Number(n) - 1]);
        return '?';
      });
      const knex = em.getTransactionContext() ?? em.getKnex();
      const raw = knex.raw(positional, bindings as never[]);
      const result = await (name ? raw.options({ name }) : raw);
      return result.rows as T[];
    },
  };
}

/** Options of the write pool beyond the settings (tests shorten the idle timeout). */
export interface StockPoolOptions {
  /** Runs once on each connection opened at start, before it serves: e.g. prepares the hot statements. */
  warm?: (connection: SqlClient) => Promise<void>;
  idleTimeoutMillis?: number;
}

/**
 * The pool of the hot path, next to the ORM's: plain `pg`, no query builder in between. Bounded like the ORM's
 * (waiting for a connection, statement time), and a connection that breaks while idle is logged, not fatal.
 *
 * Kept warm: `WRITE_POOL_MIN` connections are opened at once, each `warm`ed, and never closed for being idle;
 * others close after a minute (pg's default is 10 s). A new connection cost its first stock changes a backend
 * start, its catalogue caches and the statement's preparation: 0.4–0.8 s for a burst after start or after a
 * quiet spell, more beside busy readers. Its statements are always planned generically (`plan_cache_mode`):
 * they are named, their values are inside jsonb parameters a custom plan cannot see into, and PostgreSQL would
 * otherwise plan each one for its values five times per connection first (~4 ms each for the movement statement).
 */
export function createStockPool(
  settings: { DATABASE_URL: string; WRITE_POOL_SIZE: number; WRITE_POOL_MIN: number },
  logger: Logger,
  options: StockPoolOptions = {},
): pg.Pool {
  const min = Math.min(settings.WRITE_POOL_MIN, settings.WRITE_POOL_SIZE);
  const pool = new pg.Pool({
    connectionString: settings.DATABASE_URL,
    max: settings.WRITE_POOL_SIZE,
    min,
    idleTimeoutMillis: options.idleTimeoutMillis ?? 60_000,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 15_000,
    options: '-c plan_cache_mode=force_generic_plan',
  });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));
  void openConnections(pool, min, options.warm).catch((error) =>
    logger.warn({ err: error }, 'could not open the write connections ahead; they open on demand'),
  );
  return pool;
}

/** Opens `count` connections at once (all held together, so they are distinct), warms each, releases them to the pool. */
async function openConnections(
  pool: pg.Pool,
  count: number,
  warm?: (connection: SqlClient) => Promise<void>,
): Promise<void> {
  const opened = await Promise.allSettled(Array.from({ length: count }, () => pool.connect()));
  const clients = opened.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
  const warmed = await Promise.allSettled(clients.map((client) => warm?.(poolClient(client))));
  for (const client of clients) client.release();
  const failed = [...opened, ...warmed].find((c) => c.status === 'rejected');
  if (failed) throw failed.reason;
}
