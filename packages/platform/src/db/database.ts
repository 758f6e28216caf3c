import pg from 'pg';
import { InfrastructureError } from '../errors.js';

export class DatabaseUnreachableError extends InfrastructureError {
  constructor(url: string, cause: unknown) {
    super(
      'DATABASE_UNREACHABLE',
      `PostgreSQL is not reachable at ${redact(url)} (${(cause as Error)?.message ?? cause}). ` +
        'Start it with `pg_ctlcluster 15 main start` (installed package) or `docker compose up -d postgres`.',
      { cause },
    );
  }
}

export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/** Creates the database of `url` when it does not exist yet (connecting to the server's `postgres` database). */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseUnreachableError(url, error);
  }
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name.replaceAll('"', '""')}"`);
  } catch (error) {
    // Another process may have created it at the same moment.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  // query_canceled: statement_timeout fired, e.g. for a statement caught in a database freeze (found by the
  // chaos soak); retrying later is the answer, not a 500.
  '57014',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);

/**
 * Messages of errors without a code that still mean the connection is gone: `pg` on a pooled client whose
 * connection broke (a PostgreSQL restart), and knex on the next query of a transaction that the broken
 * connection already ended (our transactions never outlive their callback, so nothing else ends them early), and
 * `pg`'s connect timeout ("timeout expired") against a server that accepts no connection (frozen).
 */
const CONNECTION_LOST_MESSAGE =
  /Connection terminated|Timeout acquiring a connection|timeout exceeded when trying to connect|(^| - )timeout expired$|connection error and is not queryable|Transaction query already complete/;

/** True for errors that mean "the database is not there right now" rather than "the query is wrong". */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { code?: string; name?: string; message?: string; cause?: unknown };
    if (e.code && CONNECTION_ERROR_CODES.has(e.code)) return true;
    if (e.name === 'KnexTimeoutError' || e.name === 'ConnectionException') return true;
    if (typeof e.message === 'string' && CONNECTION_LOST_MESSAGE.test(e.message)) {
      return true;
    }
    current = e.cause;
  }
  return false;
}
