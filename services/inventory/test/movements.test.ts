import { type DomainEvent, newEventId, parseEvent, subjectOf } from '@inv/contracts';
import { eventually } from '@inv/testkit';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stockEventsOf } from '../src/domain/events.js';
import type { LedgerEntry, StockRecord } from '../src/domain/record.js';
import { applyDelta, crossingsOf, deficitOf, deltas, type StockLevels } from '../src/domain/stock.js';
import {
  applyMovements,
  BOOK_MOVEMENTS_SQL,
  bookMovements,
  type MovementGroup,
  type MovementLine,
  poolClient,
  type SqlClient,
  tryApplyMovements,
} from '../src/index.js';
import { recordIdByKeySql } from '../src/infra/db/movements-sql.js';
import {
  crossesLowStockSql,
  crossesOutOfStockSql,
  deficitSql,
  withinStockSql,
} from '../src/infra/db/stock-rules-sql.js';
import { type InventoryFixture, inventoryFixture, uniqueKey } from './support.js';

const actor = { actor: 'test-user' };

/** The fields an event gets from the moment it is written, not from the rules. */
function withoutTimes(event: DomainEvent) {
  const { id: _id, occurredAt: _at, ...rest } = event;
  const { timestamp: _ts, ...data } = event.data as { timestamp: string };
  return { ...rest, data };
}

/** Pages (buffers) a statement touches when run with its generic plan, as a prepared statement runs it. */
async function sharedBlocksOfGenericPlan(pool: pg.Pool, sql: string, args: string): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('set plan_cache_mode = force_generic_plan');
    await client.query(`prepare generic_plan_probe(text, text, text, text) as ${sql}`);
    const plan = await client.query<{ 'QUERY PLAN': [{ Plan: { 'Shared Hit Blocks': number } }] }>(
      `explain (analyze, buffers, format json) execute generic_plan_probe(${args})`,
    );
    return plan.rows[0]!['QUERY PLAN'][0].Plan['Shared Hit Blocks'];
  } finally {
    await client.query('deallocate generic_plan_probe').catch(() => undefined);
    await client.query('reset plan_cache_mode');
    client.release();
  }
}

describe('atomic movements', () => {
  let f: InventoryFixture;
  let pool: pg.Pool;
  beforeAll(async () => {
    f = await inventoryFixture();
    pool = new pg.Pool({ connectionString: f.db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await f?.close();
  });

  it('evaluates the stock rules in SQL exactly as the domain does', async () => {
    const level = fc.integer({ min: -20, max: 20 });
    const samples = fc.sample(
      fc.record({
        availableBefore: level,
        minimumBefore: fc.integer({ min: 0, max: 10 }),
        reservedBefore: fc.integer({ min: 0, max: 20 }),
        quantityChange: level,
        reservedChange: level,
        minimumAfter: fc.integer({ min: 0, max: 10 }),
        allowNegative: fc.boolean(),
      }),
      { numRuns: 2_000, seed: 17 },
    );
    const rows = samples.map((s, n) => ({
      n,
      ab: s.availableBefore,
      mb: s.minimumBefore,
      aa: s.availableBefore + s.quantityChange,
      ma: s.minimumAfter,
      ra: s.reservedBefore + s.reservedChange,
      q: s.quantityChange,
      neg: s.allowNegative,
    }));
    const { rows: results } = await pool.query(
      `select ${crossesLowStockSql({ available: 'ab', minimumStock: 'mb' }, { available: 'aa', minimumStock: 'ma' })} as low,
              ${crossesOutOfStockSql({ available: 'ab' }, { available: 'aa' })} as out,
              ${deficitSql('aa', 'ma')}::int as deficit,
              ${withinStockSql({ quantityChange: 'q', allowNegative: 'neg', availableAfter: 'aa', reservedAfter: 'ra' })} as ok
         from jsonb_to_recordset($1::jsonb) as x(n int, ab int, mb int, aa int, ma int, ra int, q int, neg boolean)
        order by n`,
      [JSON.stringify(rows)],
    );
    samples.forEach((s, i) => {
      const before: StockLevels = {
        available: s.availableBefore,
        reserved: s.reservedBefore,
        minimumStock: s.minimumBefore,
      };
      const after: StockLevels = {
        available: s.availableBefore + s.quantityChange,
        reserved: s.reservedBefore + s.reservedChange,
        minimumStock: s.minimumAfter,
      };
      const crossings = crossingsOf(before, after);
      let accepted = true;
      try {
        applyDelta(before, {
          movementType: 'adjustment',
          quantityChange: s.quantityChange,
          reservedChange: s.reservedChange,
          allowNegative: s.allowNegative,
        });
      } catch {
        accepted = false;
      }
      expect(results[i], JSON.stringify(s)).toEqual({
        low: crossings.lowStock,
        out: crossings.outOfStock,
        deficit: deficitOf(after),
        ok: accepted,
      });
    });
  });

  it('writes every event as the contracts define it and as the domain would have built it', async () => {
    const key = uniqueKey('ev');
    const steps = [
      { ...key, quantity: 10, movementType: 'in', minimumStock: 4, rack: 'R1', reason: 'restock' },
      { ...key, quantity: 7, movementType: 'out', source: 'shop' },
      { ...key, quantity: 3, movementType: 'out' },
      { ...key, quantity: 2, movementType: 'out', allowNegative: true },
      { ...key, quantity: 5, movementType: 'adjustment', reason: 'count' },
      { ...key, quantity: 1, movementType: 'in', minimumStock: 9 },
    ] as const;
    // A manager's token: allowNegative needs one (allow-negative.test.ts refuses a clerk).
    for (const body of steps) {
      expect(
        (await f.api('POST', '/api/inventory/adjust', { body, claims: { roles: ['manager'] } })).status,
      ).toBe(200);
    }
    const [{ inventory_id: inventoryId }] = await f.sql(
      'select inventory_id from inventory_record where product_id = ?',
      [key.productId],
    );
    await applyMovements(f.service.db, [
      {
        target: { inventoryId },
        changes: [
          { change: deltas.reserve(4), context: { ...actor, transferId: 'tr-1', source: 'transfer' } },
          { change: deltas.shipOut(3, 0), context: { ...actor, transferId: 'tr-1' } },
          { change: deltas.release(1), context: { ...actor, transferId: 'tr-1' } },
        ],
      },
    ]);
    const patched = await f.api('PATCH', `/api/inventory/${inventoryId}`, { body: { minimumStock: 0 } });
    expect(patched.status).toBe(200);

    const ledger = await f.sql(
      `select movement_id::text as movement_id, record_version, movement_type, quantity_change::int,
              reserved_change::int, available_before::int, available_after::int, reserved_before::int,
              reserved_after::int, minimum_stock::int, reason, source, actor, correlation_id, causation_id,
              transfer_id, event_id::text
         from inventory_movement where inventory_id = ? order by record_version`,
      [inventoryId],
    );
    expect(ledger.map((m) => m.record_version)).toEqual(ledger.map((_, i) => i + 1));
    const outbox = await f.sql(
      'select subject, payload, order_key from outbox where order_key = ? order by id',
      [`inventory:${inventoryId}`],
    );
    const events = outbox.map((row) => {
      const parsed = parseEvent(row.payload);
      if (!parsed.ok) throw new Error(`${parsed.reason}: ${parsed.message}`);
      expect(subjectOf(parsed.event)).toBe(row.subject);
      return parsed.event;
    });

    const record: StockRecord = {
      inventoryId,
      ...key,
      variantId: null,
      uomId: null,
      levels: { available: 0, reserved: 0, minimumStock: 0 },
      location: { rack: 'R1', bin: null, zone: null, aisle: null },
      version: 0,
      updatedAt: new Date(),
    };
    let minimumBefore = 0;
    const expected = ledger.flatMap((m) => {
      const before = {
        available: m.available_before,
        reserved: m.reserved_before,
        minimumStock: minimumBefore,
      };
      const after = {
        available: m.available_after,
        reserved: m.reserved_after,
        minimumStock: m.minimum_stock,
      };
      minimumBefore = m.minimum_stock;
      const entry: LedgerEntry = {
        movementType: m.movement_type,
        quantityChange: m.quantity_change,
        reservedChange: m.reserved_change,
        before,
        after,
        crossings: crossingsOf(before, after),
        version: m.record_version,
        context: {
          actor: m.actor,
          reason: m.reason,
          source: m.source,
          correlationId: m.correlation_id,
          causationId: m.causation_id,
          transferId: m.transfer_id,
        },
      };
      const built = stockEventsOf(record, entry, m.movement_id);
      expect(events.find((e) => e.id === m.event_id)?.type).toBe('inventory.updated');
      return built;
    });
    expect(events.map(withoutTimes)).toEqual(expected.map(withoutTimes));
    // The steps above crossed both lines, more than once: the comparison covered the alerts too.
    expect(events.filter((e) => e.type === 'inventory.low_stock').length).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e.type === 'inventory.out_of_stock').length).toBeGreaterThanOrEqual(1);
  });

  it('reserves several records all or nothing, and reports every current level when one is short', async () => {
    const a = uniqueKey('multi');
    const b = uniqueKey('multi');
    await f.adjust({ ...a, quantity: 5, movementType: 'in' });
    await f.adjust({ ...b, quantity: 1, movementType: 'in' });
    const reserve = (qa: number, qb: number): MovementLine[] => [
      {
        target: { key: { ...a, variantId: null, uomId: null }, create: false },
        changes: [{ change: deltas.reserve(qa), context: actor }],
      },
      {
        target: { key: { ...b, variantId: null, uomId: null }, create: false },
        changes: [{ change: deltas.reserve(qb), context: actor }],
      },
    ];
    const refused = await tryApplyMovements(f.service.db, reserve(2, 2));
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      details: { available: 1, requested: 2 },
    });
    expect(refused.current.map((r) => r?.levels.available)).toEqual([5, 1]);
    const untouched = await f.sql(
      'select quantity_available::int as a, quantity_reserved::int as r, version from inventory_record where product_id in (?, ?) order by product_id',
      [a.productId, b.productId],
    );
    expect(untouched).toEqual([
      { a: 5, r: 0, version: 1 },
      { a: 1, r: 0, version: 1 },
    ]);
    const missing = await tryApplyMovements(f.service.db, [
      {
        target: { key: { ...uniqueKey('none'), variantId: null, uomId: null }, create: false },
        changes: [{ change: deltas.reserve(1), context: actor }],
      },
    ]);
    expect(missing.ok ? null : missing.error.code).toBe('NOT_FOUND');

    const booked = await applyMovements(f.service.db, reserve(2, 1));
    expect(
      booked.map((x) => [x.record.levels.available, x.record.levels.reserved, x.record.version]),
    ).toEqual([
      [3, 2, 2],
      [0, 1, 2],
    ]);
  });

  it('never deadlocks: concurrent multi-record reservations in opposite orders all apply', async () => {
    const keys = [uniqueKey('dl'), uniqueKey('dl'), uniqueKey('dl')].map((k) => ({
      ...k,
      variantId: null,
      uomId: null,
    }));
    for (const key of keys) await f.adjust({ ...key, quantity: 1_000, movementType: 'in' });
    const line = (key: (typeof keys)[number]): MovementLine => ({
      target: { key },
      changes: [{ change: deltas.reserve(1), context: actor }],
    });
    const orders = [keys, [...keys].reverse(), [keys[1]!, keys[2]!, keys[0]!]];
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => applyMovements(f.service.db, orders[i % 3]!.map(line))),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const rows = await f.sql(
      'select quantity_available::int as a, quantity_reserved::int as r, version from inventory_record where product_id in (?, ?, ?)',
      keys.map((k) => k.productId),
    );
    expect(rows).toEqual(keys.map(() => ({ a: 940, r: 60, version: 61 })));
  });
  it('waits for the row lock on a record below zero when a movement takes nothing from it (a settings change beside a concurrent in)', async () => {
    const key = { ...uniqueKey('below'), variantId: null, uomId: null };
    await f.adjust({ ...key, quantity: 2, movementType: 'in' });
    await applyMovements(f.service.db, [
      { target: { key }, changes: [{ change: deltas.out(5, true), context: actor }] },
    ]);
    // An `in 10` holds the row lock in a transaction not yet committed.
    const blocker = await pool.connect();
    try {
      await blocker.query('begin');
      const inTransaction: SqlClient = {
        autocommit: false,
        async query<T>(text: string, values: unknown[], name?: string) {
          return (await blocker.query({ text, values, name })).rows as T[];
        },
      };
      const held = await bookMovements(
        inTransaction,
        [
          {
            target: { key, newInventoryId: newEventId(), mayCreate: false },
            movements: [
              {
                change: deltas.in(10),
                context: actor,
                eventIds: { updated: newEventId(), lowStock: newEventId(), outOfStock: newEventId() },
              },
            ],
          },
        ],
        new Date(),
      );
      expect(held.ok).toBe(true);
      const settings = applyMovements(f.service.db, [
        { target: { key }, changes: [{ change: deltas.settings(7), context: actor }] },
      ]);
      await eventually(
        async () =>
          (
            await f.sql(
              "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
            )
          )[0]?.n === 1,
        { message: 'the settings change waiting for the row lock' },
      );
      await blocker.query('commit');
      const [booked] = await settings;
      expect(booked!.record.levels.available).toBe(7);
      expect(booked!.record.levels.minimumStock).toBe(7);
      expect(booked!.record.version).toBe(4);
    } finally {
      blocker.release();
    }
    const ledger = await f.sql(
      'select record_version::int as v, available_after::int as a from inventory_movement where product_id = ? order by record_version',
      [key.productId],
    );
    expect(ledger).toEqual([
      { v: 1, a: 2 },
      { v: 2, a: -3 },
      { v: 3, a: 7 },
      { v: 4, a: 7 },
    ]);
  });

  it('finds a record by its stock key without reading the rest of its product', async () => {
    const { productId: product } = uniqueKey('wide-product');
    // A product in 3,000 warehouses, and 3,000 other products in one of them: neither alone finds one record.
    await pool.query(
      `insert into inventory_record (inventory_id, product_id, warehouse_id, variant_id, uom_id, version)
       select $1 || '-' || g, $1, 'w-' || g, case when g % 2 = 0 then 'v' end, null, 1
         from generate_series(1, 3000) g
       union all
       select $1 || '-other-' || g, $1 || '-other-' || g, 'w-1500', null, null, 1
         from generate_series(1, 3000) g`,
      [product],
    );
    await pool.query('analyze inventory_record');
    // As the movement statement runs it: prepared, with the plan for any key (generic).
    const blocks = await sharedBlocksOfGenericPlan(
      pool,
      `with k as (select $1 as product_id, $2 as warehouse_id, $3 as variant_id, $4 as uom_id)
       select (${recordIdByKeySql('k')}) from k`,
      `'${product}', 'w-1500', 'v', null`,
    );
    // One index descent and one heap page: a scan bounded by the product or the warehouse alone reads ~20.
    expect(blocks).toBeLessThanOrEqual(5);
  });

  it('books one increase with the lean statement exactly as the generic statement books it', async () => {
    const generic = { sql: BOOK_MOVEMENTS_SQL, name: 'test_generic_movements', params: [] };
    const now = new Date();
    const increase = (key: { productId: string; warehouseId: string }, expectedVersion?: number) => {
      const group: MovementGroup = {
        target: {
          key: { ...key, variantId: null, uomId: null },
          newInventoryId: newEventId(),
          mayCreate: true,
          expectedVersion,
          location: { bin: 'b-7' },
        },
        movements: [
          {
            change: { ...deltas.release(2), minimumStock: 12 },
            context: { ...actor, reason: 'twin', correlationId: 'c-1' },
            eventIds: { updated: newEventId(), lowStock: newEventId(), outOfStock: newEventId() },
          },
        ],
      };
      return [group];
    };
    /** A result with the record's own ids and the ledger's serial numbers named alike. */
    const neutral = (result: unknown, key: { productId: string }, groups: MovementGroup[]) => {
      let text = JSON.stringify(result).replace(/"movementId":(\d+|"\d+")/g, '"movementId":0');
      const ids = groups[0]!.movements[0]!.eventIds;
      for (const [id, name] of [
        [key.productId, 'P'],
        [ids.updated, 'U'],
        [ids.lowStock, 'L'],
        [ids.outOfStock, 'O'],
      ] as const) {
        text = text.split(id).join(name);
      }
      const parsed = JSON.parse(text) as {
        booked?: { record: { inventoryId: string } }[];
        current?: { inventoryId: string }[];
      };
      const inventoryId = parsed.booked?.[0]?.record.inventoryId ?? parsed.current?.[0]?.inventoryId;
      return inventoryId ? text.split(inventoryId).join('I') : text;
    };
    const twins = [uniqueKey('twin'), uniqueKey('twin')] as const;
    for (const key of twins) {
      await f.adjust({ ...key, quantity: 8, movementType: 'in', minimumStock: 10 });
      await applyMovements(f.service.db, [
        {
          target: { key: { ...key, variantId: null, uomId: null } },
          changes: [{ change: deltas.reserve(3), context: actor }],
        },
      ]);
    }
    const db = poolClient(pool);
    const outcomes = [];
    for (const [i, expectedVersion] of [undefined, 2, 3].entries()) {
      const [lean, gen] = [increase(twins[0], expectedVersion), increase(twins[1], expectedVersion)];
      const a = await bookMovements(db, lean, now);
      const b = await bookMovements(db, gen, now, generic);
      expect(neutral(a, twins[0], lean), `case ${i}`).toEqual(neutral(b, twins[1], gen));
      outcomes.push(a.ok ? a.booked[0]!.record.version : `${a.refusals[0]} at ${a.current[0]?.version}`);
    }
    // Booked; refused as stale (the record is at 3); refused as short (1 reserved left to release).
    expect(outcomes).toEqual([3, 'stale at 3', 'insufficient at 3']);
  });
});
