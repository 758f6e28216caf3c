import { DEAD_LETTERS_STREAM, DURABLE_CONSUMERS, EVENTS_STREAM } from '@inv/contracts';
import { createTestDatabase, startTestNats, type TestDatabase, type TestNats } from '@inv/testkit';
import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
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
    await nats?.stop();
    await Promise.all([inventory?.drop(), transfer?.drop()]);
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

  it('creates the EVENTS and DEAD_LETTERS streams and the durable consumers, twice without harm', async () => {
    const env = {
      NATS_URL: nats.url,
      INVENTORY_DATABASE_URL: inventory.url,
      TRANSFER_DATABASE_URL: transfer.url,
      LOG_LEVEL: 'silent',
    };
    await setup(env);
    await setup(env);
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const dlq = await jsm.streams.info(DEAD_LETTERS_STREAM);
      expect(dlq.config).toMatchObject({ subjects: ['dlq.>'], discard: DiscardPolicy.New, max_age: 0 });
      expect((await jsm.streams.info(EVENTS_STREAM)).config.name).toBe(EVENTS_STREAM);
      for (const durable of Object.values(DURABLE_CONSUMERS)) {
        expect((await jsm.consumers.info(EVENTS_STREAM, durable.name)).config.filter_subject).toBe(
          durable.filterSubject,
        );
      }
    } finally {
      await nc.close();
    }
  });
});
