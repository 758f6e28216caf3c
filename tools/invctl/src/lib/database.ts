import pg from 'pg';
import { CliError } from './errors.js';

/** Connects to a service's database for one command, checks it has `table` (the right database), always closes. */
export async function withDatabase<T>(
  url: string,
  table: { name: string; service: string },
  work: (db: pg.Client) => Promise<T>,
): Promise<T> {
  const db = new pg.Client({ connectionString: url, application_name: 'invctl' });
  try {
    await db.connect();
  } catch (error) {
    throw new CliError(`PostgreSQL is not reachable at ${where(url)}: ${(error as Error).message}`);
  }
  try {
    const { rows } = await db.query('select to_regclass($1) is not null as ok', [table.name]);
    if (!rows[0]?.ok) throw new CliError(`no ${table.service} tables in ${where(url)} (wrong database URL?)`);
    return await work(db);
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** Where the database is, without the credentials of its URL. */
export function where(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
