import { createTestDatabase, type TestDatabase, testLogger } from '@inv/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../src/index.js';

describe('migrateDatabase', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('migrate');
  });
  afterAll(async () => db?.drop());

  it('lets instances starting together take turns: one applies, the others find nothing to do', async () => {
    const options = { url: db.url, entities: [], migrations: [], logger: testLogger() };
    const runs = await Promise.all(Array.from({ length: 4 }, () => migrateDatabase(options)));

    const applying = runs.filter((applied) => applied.length > 0);
    expect(applying).toHaveLength(1);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query('select name from mikro_orm_migrations');
      expect(rows.map((r) => r.name)).toEqual(applying[0]);
    } finally {
      await client.end();
    }
  });
});
