import { createEvent, type DomainEvent, EVENTS_STREAM, subjectOf } from '@inv/contracts';
import { eventsStreamConfig } from '@inv/platform';
import {
  createTestDatabase,
  eventually,
  startTestNats,
  type TestDatabase,
  type TestNats,
} from '@inv/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventConsumer, filterSubjectFor, PostgresProcessedEvents, type RetentionGap } from '../src/index.js';

let seq = 0;
function lowStock(warehouseId: string): DomainEvent {
  seq++;
  return createEvent(
    'inventory.low_stock',
    {
      inventoryId: `inv-${warehouseId}`,
      productId: 'p1',
      warehouseId,
      variantId: null,
      uomId: null,
      quantityAvailable: 1,
      quantityReserved: 0,
      minimumStock: 5,
      deficit: 4,
      version: seq,
      timestamp: new Date().toISOString(),
    },
    { aggregate: { type: 'inventory', id: `inv-${warehouseId}`, version: seq } },
  );
}

describe('filter subject for a selection', () => {
  it('narrows to one warehouse of one type, and widens with the client filtering the rest', () => {
    expect(filterSubjectFor({ types: ['inventory.low_stock'], warehouses: ['W1'] })).toBe(
      'inventory.product.*.warehouse.W1.variant.*.uom.*.low_stock',
    );
    expect(filterSubjectFor({ types: ['inventory.low_stock', 'inventory.out_of_stock'] })).toBe(
      'inventory.product.*.warehouse.*.variant.*.uom.>',
    );
    expect(filterSubjectFor({ types: ['inventory.low_stock'], warehouses: ['W1', 'W2'] })).toBe(
      'inventory.product.*.warehouse.*.variant.*.uom.*.low_stock',
    );
    expect(filterSubjectFor({ types: ['inventory.low_stock', 'transfer.shipped'] })).toBe('>');
  });
});

describe('event consumer', () => {
  let nats: TestNats;
  let db: TestDatabase;
  let nc: NatsConnection;
  let pool: pg.Pool;
  let processed: PostgresProcessedEvents;

  beforeAll(async () => {
    nats = await startTestNats();
    db = await createTestDatabase('kit');
    nc = await connect({ servers: nats.url });
    pool = new pg.Pool({ connectionString: db.url });
    processed = new PostgresProcessedEvents(pool);
    await processed.ensureTable();
    await pool.query('create table effect (event_id text not null, warehouse_id text not null)');
  });
  beforeEach(async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(EVENTS_STREAM).catch(() => undefined);
    // Small enough that a test can age events out by publishing.
    await jsm.streams.add({ ...eventsStreamConfig(), max_msgs: 5 });
    await pool.query('truncate effect, processed_event');
  });
  afterAll(async () => {
    await pool?.end();
    await nc?.close();
    await db?.drop();
    await nats?.stop();
  });

  const publish = (event: DomainEvent, msgID = event.id) =>
    jetstream(nc).publish(subjectOf(event), JSON.stringify(event), { msgID });

  function consumer(
    durable: string,
    handle: (e: DomainEvent, tx: pg.PoolClient) => Promise<void>,
    gaps?: RetentionGap[],
  ) {
    return new EventConsumer({
      nc,
      durable,
      selection: { types: ['inventory.low_stock'], warehouses: ['W1'] },
      processed,
      handle,
      onRetentionGap: gaps ? (gap) => void gaps.push(gap) : undefined,
    });
  }
  const record = async (e: DomainEvent, tx: pg.PoolClient) => {
    await tx.query('insert into effect values ($1, $2)', [
      e.id,
      (e.data as { warehouseId: string }).warehouseId,
    ]);
  };
  const effects = async () => (await pool.query('select event_id from effect')).rows.map((r) => r.event_id);

  it('applies each selected event once even when the stream holds it twice', async () => {
    const kit = consumer('kit-once', record);
    await kit.start();
    const a = lowStock('W1');
    await publish(a);
    await publish(lowStock('W2'));
    await publish(a, `${a.id}-again`); // outside the dedupe window, as after a producer crash
    const b = lowStock('W1');
    await publish(b);
    await eventually(async () => (await effects()).includes(b.id));
    await kit.stop();
    expect(await effects()).toEqual([a.id, b.id]);
  });

  it('goes on in a stream made anew after the server lost its storage, from its first event', async () => {
    const kit = consumer('kit-remade', record);
    await kit.start();
    const a = lowStock('W1');
    await publish(a);
    await eventually(async () => (await effects()).includes(a.id));

    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(EVENTS_STREAM);
    await jsm.streams.add({ ...eventsStreamConfig(), max_msgs: 5 });
    const b = lowStock('W1');
    await publish(b);
    await eventually(async () => (await effects()).includes(b.id), {
      message: 'the event of the new stream',
    });
    await kit.stop();
    expect(await effects()).toEqual([a.id, b.id]);
  });

  it('rolls back a failed handler with its id and applies the event on redelivery', async () => {
    let calls = 0;
    const kit = consumer('kit-retry', async (e, tx) => {
      calls++;
      await record(e, tx);
      if (calls === 1) throw new Error('downstream unavailable');
    });
    await kit.start();
    const a = lowStock('W1');
    await publish(a);
    await eventually(async () => (await effects()).length === 1, { timeoutMs: 5_000 });
    await kit.stop();
    expect(calls).toBe(2);
    expect(await effects()).toEqual([a.id]);
  });

  it('reports the events that aged out while the consumer was away', async () => {
    const gaps: RetentionGap[] = [];
    const kit = consumer('kit-gap', record, gaps);
    await kit.start();
    const a = lowStock('W1');
    await publish(a);
    await eventually(async () => (await effects()).includes(a.id));
    await kit.stop();
    for (let i = 0; i < 8; i++) await publish(lowStock('W1')); // max_msgs 5: sequences 2..4 age out
    const again = consumer('kit-gap', record, gaps);
    await again.start();
    expect(gaps).toEqual([{ firstLost: 2, lastLost: 4 }]);
    await eventually(async () => (await effects()).length === 6);
    await again.stop();
  });
});
