import { createTestDatabase, eventually, type TestDatabase } from '@inv/testkit';
import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStockPool } from '../src/infra/db/sql-client.js';

const logger = pino({ level: 'silent' });

/** Backends connected to the test database other than the one asking. */
async function backends(connection: pg.PoolClient, db: TestDatabase): Promise<number> {
  const rows = await connection.query<{ n: number }>(
    'select count(*)::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
    [db.name],
  );
  return rows.rows[0]!.n;
}

describe('the write pool', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('writepool');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('opens its minimum of connections at start, warms each, and keeps them through a quiet spell, closing only the rest', async () => {
    const settings = { DATABASE_URL: db.url, WRITE_POOL_SIZE: 6, WRITE_POOL_MIN: 3 };
    const warmed: string[] = [];
    const pool = createStockPool(settings, logger, {
      idleTimeoutMillis: 100,
      warm: async (connection) => {
        const [row] = await connection.query<{ pid: number }>('select pg_backend_pid() as pid', []);
        warmed.push(String(row!.pid));
      },
    });
    try {
      await eventually(() => expect(pool.totalCount).toBe(3));
      await eventually(() => expect(new Set(warmed).size).toBe(3));
      // A burst opens more; once idle past the timeout they close, down to the minimum, never below.
      const held = await Promise.all(Array.from({ length: 6 }, () => pool.connect()));
      expect(pool.totalCount).toBe(6);
      for (const client of held) client.release();
      await eventually(() => expect(pool.totalCount).toBe(3));
      await new Promise<void>((resolve) => setTimeout(resolve, 300)); // three idle timeouts
      expect(pool.totalCount).toBe(3);
      const probe = await pool.connect();
      try {
        expect(await backends(probe, db)).toBe(2);
      } finally {
        probe.release();
      }
    } finally {
      await pool.end();
    }
  });

  it('plans its statements generically from the first one', async () => {
    const pool = createStockPool({ DATABASE_URL: db.url, WRITE_POOL_SIZE: 2, WRITE_POOL_MIN: 0 }, logger);
    try {
      const rows = await pool.query<{ plan_cache_mode: string }>('show plan_cache_mode');
      expect(rows.rows[0]!.plan_cache_mode).toBe('force_generic_plan');
    } finally {
      await pool.end();
    }
  });
});
