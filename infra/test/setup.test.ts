import { createTestDatabase, startTestNats, type TestDatabase, type TestNats } from '@inv/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from '../src/setup.js';

describe('infra setup', () => {
  let nats: TestNats;
  let inventory: TestDatabase;
  let transfer: TestDatabase;
  beforeAll(async () => {
    [nats, inventory, transfer] = await Promise.all([
      startTestNats(),
      createTestDatabase('setup_inv'),
      createTestDatabase('setup_tr'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([nats?.stop(), inventory?.drop(), transfer?.drop()]);
  });

  it('migrates both databases under NODE_ENV=production, where the services refuse AUTH_DISABLED', async () => {
    await setup({
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      NATS_URL: nats.url,
      INVENTORY_DATABASE_URL: inventory.url,
      TRANSFER_DATABASE_URL: transfer.url,
    });
    for (const [db, table] of [
      [inventory, 'inventory_record'],
      [transfer, 'transfer'],
    ] as const) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query('select to_regclass($1) as name', [table]);
      await client.end();
      expect(rows[0].name).toBe(table);
    }
  });
});
