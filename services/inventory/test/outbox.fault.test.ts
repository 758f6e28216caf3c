import type { DomainEvent } from '@inv/contracts';
import { readStoredEvents } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InventoryFixture, inventoryFixture } from './support.js';

type Updated = Extract<DomainEvent, { type: 'inventory.updated' }>;

describe('events while NATS is down', () => {
  let f: InventoryFixture;
  beforeAll(async () => {
    f = await inventoryFixture();
  });
  afterAll(async () => {
    await f?.nats.server?.launch();
    await f?.close();
  });

  it('keeps answering adjusts, then publishes every event once and in order per record', async () => {
    const products = ['nd-1', 'nd-2', 'nd-3'];
    for (const productId of products) {
      expect(
        (await f.adjust({ productId, warehouseId: 'wh-1', quantity: 100, movementType: 'in' })).status,
      ).toBe(200);
    }
    await f.outboxDrained();

    await f.nats.server!.kill('SIGKILL');
    const statuses = await Promise.all(
      products.map(async (productId) => {
        const seen: number[] = [];
        for (let i = 0; i < 12; i++) {
          const movementType = i % 3 === 2 ? 'out' : 'in';
          seen.push(
            (await f.adjust({ productId, warehouseId: 'wh-1', quantity: 1 + i, movementType })).status,
          );
        }
        return seen;
      }),
    );
    expect(statuses.flat().every((s) => s === 200)).toBe(true);
    const [waiting] = await f.sql('select count(*)::int as n from outbox where published_at is null');
    expect(waiting.n).toBeGreaterThanOrEqual(36);
    expect((await f.api('GET', '/readyz', { token: null })).status).toBe(503);

    await f.nats.server!.launch();
    await f.outboxDrained(90_000);

    const stored = await readStoredEvents(f.nc, 'inventory.>');
    const ids = stored.map((s) => s.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    const outboxIds = (await f.sql('select event_id::text as id from outbox order by id')).map((r) => r.id);
    expect(new Set(ids)).toEqual(new Set(outboxIds));
    for (const s of stored) expect(s.msgId).toBe(s.event.id);

    for (const productId of products) {
      const versions = stored
        .map((s) => s.event)
        .filter((e): e is Updated => e.type === 'inventory.updated' && e.data.productId === productId)
        .map((e) => e.data.version);
      expect(versions).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    }
    const ledgerEvents = (await f.sql('select event_id::text as id from inventory_movement')).map(
      (r) => r.id,
    );
    const updatedIds = stored.filter((s) => s.event.type === 'inventory.updated').map((s) => s.event.id);
    expect(new Set(updatedIds)).toEqual(new Set(ledgerEvents));
  });
});
