import { readStoredEvents, testLogger } from '@inv/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInventoryService } from '../src/index.js';
import { type InventoryFixture, inventoryFixture, ledgerBalances, uniqueKey } from './support.js';

/** Runs `tasks` with at most `limit` in flight; answers in task order. */
async function bounded<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** Per record: reserved next to what its active order reservations hold. */
async function heldVersusReserved(f: InventoryFixture) {
  return f.sql<{ inventory_id: string; reserved: number; held: number; available: number }>(
    `select r.inventory_id, r.quantity_reserved::int as reserved, r.quantity_available::int as available,
            coalesce((select sum(l.quantity) from order_reservation_line l
                        join order_reservation o using (reservation_id)
                       where o.state = 'active' and l.inventory_id = r.inventory_id), 0)::int as held
       from inventory_record r order by r.inventory_id`,
  );
}

describe('order reservations under concurrency', () => {
  let f: InventoryFixture;
  beforeAll(async () => {
    // The sweeper runs when a test asks: expiry is part of the interleavings the tests choose.
    f = await inventoryFixture({ RESERVATION_SWEEP_INTERVAL_MS: '0' });
  });
  afterAll(async () => f?.close());

  it('flash sale: 1,000 one-unit reservations against 100 in stock → exactly 100 held, 900 INSUFFICIENT_STOCK', async () => {
    const key = uniqueKey('flash');
    const stocked = await f.adjust({ ...key, quantity: 100, movementType: 'in' });
    const inventoryId = stocked.body.inventory.inventoryId;
    const answers = await bounded(
      Array.from(
        { length: 1000 },
        (_, i) => () =>
          f.api('POST', '/api/reservations', {
            body: { reference: `flash-${i}`, lines: [{ ...key, quantity: 1 }] },
          }),
      ),
      25,
    );
    const statuses = answers.map((a) => (a.status === 201 ? 'held' : `${a.status} ${a.body.code}`));
    const counts = statuses.reduce<Record<string, number>>((acc, s) => {
      acc[s] = (acc[s] ?? 0) + 1;
      return acc;
    }, {});
    expect(counts).toEqual({ held: 100, '409 INSUFFICIENT_STOCK': 900 });
    const [row] = await f.sql(
      'select quantity_available::int as available, quantity_reserved::int as reserved, version from inventory_record where inventory_id = ?',
      [inventoryId],
    );
    expect(row).toEqual({ available: 0, reserved: 100, version: 101 });
  }, 180_000);

  it('two instances expire 300 reservations due at the same second, each exactly once', async () => {
    const key = uniqueKey('sweep');
    const stocked = await f.adjust({ ...key, quantity: 300, movementType: 'in' });
    const inventoryId = stocked.body.inventory.inventoryId;
    const created = await bounded(
      Array.from(
        { length: 300 },
        (_, i) => () =>
          f.api('POST', '/api/reservations', {
            body: { reference: `sweep-${i}`, lines: [{ ...key, quantity: 1 }], expiresInSeconds: 30 },
          }),
      ),
      20,
    );
    expect(created.every((c) => c.status === 201)).toBe(true);
    await f.sql(
      `update order_reservation set expires_at = now() - interval '1 second' where reference like 'sweep-%'`,
    );
    const second = await startInventoryService(f.config, {
      logger: testLogger('inventory-2'),
      migrate: false,
    });
    try {
      const [a, b] = await Promise.all([f.service.sweeper.sweepOnce(), second.sweeper.sweepOnce()]);
      expect(a + b).toBe(300);
    } finally {
      await second.stop();
    }
    const releases = await f.sql(
      `select reservation_id, count(*)::int as n from inventory_movement
        where inventory_id = ? and movement_type = 'reservation_release' group by reservation_id`,
      [inventoryId],
    );
    expect(releases).toHaveLength(300);
    expect(releases.every((r: { n: number }) => r.n === 1)).toBe(true);
    const [row] = await f.sql(
      'select quantity_available::int as available, quantity_reserved::int as reserved from inventory_record where inventory_id = ?',
      [inventoryId],
    );
    expect(row).toEqual({ available: 300, reserved: 0 });
    await f.outboxDrained();
    const released = (await readStoredEvents(f.nc, `inventory.product.${key.productId}.>`))
      .map((s) => s.event)
      .filter((e) => e.type === 'inventory.reservation_released');
    expect(released).toHaveLength(300);
    expect(new Set(released.map((e) => (e.data as { reservationId: string }).reservationId)).size).toBe(300);
  }, 120_000);

  it('keeps reserved equal to the active reservations, available ≥ 0 and the ledger balanced under concurrent reserve / commit / release / expire / adjust', async () => {
    const keys = [uniqueKey('prop'), uniqueKey('prop'), { ...uniqueKey('prop'), warehouseId: 'wh-2' }];
    for (const key of keys) await f.adjust({ ...key, quantity: 20, movementType: 'in' });
    const open: string[] = [];

    const reserve = fc
      .record({
        lines: fc.array(fc.record({ k: fc.integer({ min: 0, max: 2 }), q: fc.integer({ min: 1, max: 6 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
      })
      .map((op) => ({ kind: 'reserve' as const, ...op }));
    const onOpen = (kind: 'commit' | 'release' | 'expire' | 'partial') =>
      fc.record({ pick: fc.nat(), kind: fc.constant(kind), q: fc.integer({ min: 0, max: 6 }) });
    const adjust = fc.record({
      kind: fc.constant('adjust' as const),
      k: fc.integer({ min: 0, max: 2 }),
      type: fc.constantFrom('in', 'out'),
      q: fc.integer({ min: 1, max: 8 }),
    });
    const operation = fc.oneof(
      reserve,
      onOpen('commit'),
      onOpen('release'),
      onOpen('expire'),
      onOpen('partial'),
      adjust,
    );
    type Operation = typeof operation extends fc.Arbitrary<infer O> ? O : never;

    const run = async (op: Operation): Promise<number> => {
      if (op.kind === 'reserve') {
        const res = await f.api('POST', '/api/reservations', {
          body: { reference: 'prop', lines: op.lines.map((l) => ({ ...keys[l.k]!, quantity: l.q })) },
        });
        if (res.status === 201) open.push(res.body.reservationId);
        return res.status;
      }
      if (op.kind === 'adjust') {
        return (await f.adjust({ ...keys[op.k]!, quantity: op.q, movementType: op.type })).status;
      }
      const id = open[op.pick % Math.max(open.length, 1)];
      if (!id) return 200;
      const path = `/api/reservations/${id}`;
      if (op.kind === 'expire') {
        await f.sql(
          `update order_reservation set expires_at = now() - interval '1 second' where reservation_id = ?`,
          [id],
        );
        await f.service.sweeper.sweepOnce();
        return 200;
      }
      if (op.kind === 'partial') {
        return (
          await f.api('POST', `${path}/commit`, { body: { lines: [{ lineId: 'l1', quantity: op.q }] } })
        ).status;
      }
      return (await f.api('POST', `${path}/${op.kind}`, { body: {} })).status;
    };

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 6 }),
        async (rounds) => {
          for (const round of rounds) {
            const statuses = await Promise.all(round.map(run));
            // Refusals are fine (short stock, a final state, a partial commit over a line); errors are not.
            for (const status of statuses) expect([200, 201, 400, 409]).toContain(status);
            for (const row of await heldVersusReserved(f)) {
              expect(row.reserved).toBe(row.held);
              expect(row.available).toBeGreaterThanOrEqual(0);
            }
            for (const row of await ledgerBalances(f)) {
              expect(row.quantity_available).toBe(row.ledger_available);
              expect(row.quantity_reserved).toBe(row.ledger_reserved);
              expect(row.version).toBe(row.ledger_rows);
            }
          }
        },
      ),
      { numRuns: 8 },
    );
  }, 120_000);
});
