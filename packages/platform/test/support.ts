import { type DomainEvent, EVENTS_STREAM } from '@inv/contracts';
import {
  createTestDatabase,
  startTestNats,
  stockUpdatedEvent,
  type TestDatabase,
  type TestNats,
  testLogger,
} from '@inv/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { createOrm, ensureDeadLettersStream, ensureEventsStream, type Orm } from '../src/index.js';

export interface PlatformFixture {
  nats: TestNats;
  db: TestDatabase;
  nc: NatsConnection;
  orm: Orm;
  close(): Promise<void>;
}

/** Real NATS (own server) and a fresh database migrated with the platform tables only. */
export async function platformFixture(
  options: { duplicateWindowMs?: number } = {},
): Promise<PlatformFixture> {
  const [nats, db] = await Promise.all([startTestNats(), createTestDatabase('platform')]);
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const jsm = await jetstreamManager(nc);
  await ensureEventsStream(jsm, options);
  await ensureDeadLettersStream(jsm);
  const orm = await createOrm({ url: db.url, entities: [], migrations: [], logger: testLogger() });
  await orm.getMigrator().up();
  return {
    nats,
    db,
    nc,
    orm,
    async close() {
      await orm.close(true);
      await nc.close();
      await Promise.all([nats.stop(), db.drop()]);
    },
  };
}

/** The first column of the first row of a query, as a number. */
export async function scalar(orm: Orm, sql: string, params: unknown[] = []): Promise<number> {
  const rows = await orm.em.fork().execute<Record<string, unknown>[]>(sql, params);
  return Number(Object.values(rows[0] ?? {})[0]);
}

/** An `inventory.updated` event for record `inventoryId` at `version`. */
export function stockEvent(inventoryId: string, version: number): DomainEvent {
  return stockUpdatedEvent({ inventoryId, productId: `p-${inventoryId}`, warehouseId: 'w1' }, version);
}

/** Every event in the EVENTS stream, in stream order. */
export async function readStream(nc: NatsConnection): Promise<{ seq: number; event: DomainEvent }[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(EVENTS_STREAM);
  if (state.messages === 0) return [];
  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, { opt_start_seq: state.first_seq });
  const out: { seq: number; event: DomainEvent }[] = [];
  while (out.length < state.messages) {
    const batch = await consumer.fetch({
      max_messages: Math.min(1000, state.messages - out.length),
      expires: 5000,
    });
    for await (const m of batch) out.push({ seq: m.seq, event: m.json<DomainEvent>() });
  }
  return out;
}
