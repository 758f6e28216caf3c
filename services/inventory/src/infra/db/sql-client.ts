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

/** The service's pool: one round trip per statement, prepared once per connection when named. */
export function poolClient(pool: pg.Pool, committed?: () => void): SqlClient {
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

/**
 * The pool of the hot path, next to the ORM's: plain `pg`, no query builder in between. Bounded like the ORM's
 * (waiting for a connection, statement time), and a connection that breaks while idle is logged, not fatal.
 */
export function createStockPool(
  settings: { DATABASE_URL: string; WRITE_POOL_SIZE: number },
  logger: Logger,
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.DATABASE_URL,
    max: settings.WRITE_POOL_SIZE,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 15_000,
  });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));
  return pool;
}
