import { createEvent, EVENTS_STREAM, subjectOf } from '@inv/contracts';
import {
  createTestDatabase,
  NatsCluster,
  startTestNats,
  type TestDatabase,
  type TestNats,
} from '@inv/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEventsStream } from '../src/index.js';

describe('test kit', () => {
  let nats: TestNats;
  let db: TestDatabase;

  beforeAll(async () => {
    [nats, db] = await Promise.all([startTestNats(), createTestDatabase('testkit')]);
  });
  afterAll(async () => {
    await Promise.all([nats?.stop(), db?.drop()]);
  });

  it('gives a real JetStream stream to publish to and read from', async () => {
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await ensureEventsStream(jsm);
    const event = createEvent(
      'inventory.out_of_stock',
      {
        inventoryId: 'inv-1',
        productId: 'p1',
        warehouseId: 'w1',
        variantId: null,
        uomId: null,
        quantityAvailable: 0,
        quantityReserved: 0,
        minimumStock: 3,
        version: 2,
        timestamp: new Date().toISOString(),
      },
      { aggregate: { type: 'inventory', id: 'inv-1', version: 2 } },
    );
    const js = jetstream(nc);
    const ack = await js.publish(subjectOf(event), JSON.stringify(event), { msgID: event.id });
    const stored = await jsm.streams.getMessage(EVENTS_STREAM, { seq: ack.seq });
    expect(stored?.json()).toEqual(event);
    expect(stored?.subject).toBe('inventory.product.p1.warehouse.w1.variant._.uom._.out_of_stock');
    await nc.close();
  });

  it('keeps the stream across a kill -9 and restart of its own server', async () => {
    const server = nats.server!;
    await server.kill('SIGKILL');
    expect(server.running).toBe(false);
    await server.launch();
    const nc = await connect({ servers: nats.url });
    const info = await (await jetstreamManager(nc)).streams.info(EVENTS_STREAM);
    expect(info.state.messages).toBe(1);
    await nc.close();
  });

  it('gives a fresh database to write and read a real table', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const tables = await client.query("select count(*)::int as n from pg_tables where schemaname = 'public'");
    expect(tables.rows[0].n).toBe(0);
    await client.query('create table probe (id int primary key, label text)');
    await client.query("insert into probe values (1, 'written')");
    const read = await client.query('select label from probe where id = 1');
    expect(read.rows[0].label).toBe('written');
    await client.end();
  });

  it('starts a 3-node cluster that accepts an R3 stream', async () => {
    const cluster = await NatsCluster.start(3);
    try {
      const nc = await connect({ servers: cluster.servers });
      const jsm = await jetstreamManager(nc);
      const info = await ensureEventsStream(jsm, { replicas: 3 });
      expect(info.config.num_replicas).toBe(3);
      expect(info.cluster?.replicas?.length).toBe(2);
      await nc.close();
    } finally {
      await cluster.stop();
    }
  });
});
