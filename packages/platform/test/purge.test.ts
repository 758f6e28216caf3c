import { DEAD_LETTERS_STREAM } from '@inv/contracts';
import { eventually, testLogger } from '@inv/testkit';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TablePurger } from '../src/index.js';
import { purgeLockKey } from '../src/maintenance/table-purger.js';
import { type PlatformFixture, platformFixture, scalar } from './support.js';

const DAY_MS = 86_400_000;

describe('scheduled purges of idempotency keys and inbox rows', () => {
  let f: PlatformFixture;
  beforeAll(async () => {
    f = await platformFixture(); // EVENTS keeps events 7 days
  });
  afterAll(async () => f?.close());
  beforeEach(async () => {
    await f.orm.em.fork().execute('truncate idempotency_key, inbox');
  });

  const purger = (intervalMs = 0) =>
    new TablePurger({
      orm: f.orm,
      databaseUrl: f.db.url,
      nc: f.nc,
      logger: testLogger(),
      service: 'test',
      intervalMs,
      idempotencyRetentionHours: 24,
      batchSize: 100,
    });
  /** `count` idempotency keys created `ageHours` ago and inbox rows processed `ageDays` ago. */
  const seed = async (count: number, ageHours: number, ageDays: number, prefix: string) => {
    await f.orm.em.fork().execute(
      `insert into idempotency_key (scope, key, request_hash, status_code, response, created_at)
         select 'adjust', ? || g, 'h', 200, '{}'::jsonb, now() - (? * interval '1 hour') from generate_series(1, ?) g`,
      [prefix, ageHours, count],
    );
    await f.orm.em.fork().execute(
      `insert into inbox (consumer, event_id, event_type, stream_seq, processed_at)
         select 'c', gen_random_uuid(), 'inventory.updated', g, now() - (? * interval '1 day') from generate_series(1, ?) g`,
      [ageDays, count],
    );
  };
  const counts = async () => ({
    keys: await scalar(f.orm, 'select count(*) from idempotency_key'),
    inbox: await scalar(f.orm, 'select count(*) from inbox'),
  });

  it('removes keys past their 24 h lifetime and inbox rows older than the stream keeps events, in batches', async () => {
    await seed(250, 25, 8, 'old-');
    await seed(5, 23, 6.9, 'new-');
    const result = await purger().runOnce();
    expect(result).toMatchObject({ idempotencyKeys: 250, inbox: 250 });
    expect(result!.inboxCutoff!.getTime()).toBeLessThan(Date.now() - 7 * DAY_MS);
    expect(await counts()).toEqual({ keys: 5, inbox: 5 });
    expect(await purger().runOnce()).toMatchObject({ idempotencyKeys: 0, inbox: 0 });
  });

  it('keeps every inbox row when the stream keeps events for ever', async () => {
    await seed(3, 48, 400, 'forever-');
    const keepsAll = new TablePurger({
      orm: f.orm,
      databaseUrl: f.db.url,
      nc: f.nc,
      logger: testLogger(),
      service: 'test',
      intervalMs: 0,
      idempotencyRetentionHours: 24,
      stream: DEAD_LETTERS_STREAM, // no max_age
    });
    expect(await keepsAll.runOnce()).toEqual({ idempotencyKeys: 3, inbox: 0, inboxCutoff: null });
    expect(await counts()).toEqual({ keys: 0, inbox: 3 });
  });

  it('does nothing while another instance holds the purge lock', async () => {
    await seed(3, 48, 30, 'locked-');
    const other = new pg.Client({ connectionString: f.db.url });
    await other.connect();
    try {
      await other.query('select pg_advisory_lock($1)', [purgeLockKey('test')]);
      expect(await purger().runOnce()).toBeNull();
      expect(await counts()).toEqual({ keys: 3, inbox: 3 });
      await other.query('select pg_advisory_unlock($1)', [purgeLockKey('test')]);
      expect(await purger().runOnce()).toMatchObject({ idempotencyKeys: 3, inbox: 3 });
    } finally {
      await other.end();
    }
  });

  it('runs on its own every interval', async () => {
    await seed(4, 30, 10, 'timer-');
    const scheduled = purger(50);
    scheduled.start();
    try {
      await eventually(async () => (await counts()).keys === 0 && (await counts()).inbox === 0, {
        message: 'scheduled purge',
      });
    } finally {
      await scheduled.stop();
    }
  });
});
