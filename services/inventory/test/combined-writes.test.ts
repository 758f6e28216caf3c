import type { StockKey } from '@inv/contracts';
import { eventually } from '@inv/testkit';
import pg from 'pg';
import { Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCombinable, MovementCombiner } from '../src/app/movement-combiner.js';
import { type MovementLine, type MovementOutcome, tryApplyMovements } from '../src/app/movements.js';
import { prepareReservation, reservationCombiner } from '../src/app/reservation-creation.js';
import { deltas } from '../src/domain/stock.js';
import { poolClient, type SqlClient } from '../src/index.js';
import { type InventoryFixture, inventoryFixture, ledgerBalances, uniqueKey } from './support.js';

const context = { actor: 'test-user', reason: null, source: null };

function keyOf(prefix: string): StockKey {
  return { ...uniqueKey(prefix), variantId: null, uomId: null };
}

function increase(key: StockKey, quantity: number): MovementLine {
  return { target: { key }, changes: [{ change: deltas.in(quantity), context }] };
}

function linesObserved(histogram: Histogram) {
  return histogram.get().then((m) => ({
    statements: m.values.find((v) => v.metricName?.endsWith('_count'))?.value,
    lines: m.values.find((v) => v.metricName?.endsWith('_sum'))?.value,
  }));
}

function booked(outcome: MovementOutcome) {
  if (!outcome.ok) throw new Error(`refused: ${outcome.error.code}`);
  return outcome.booked[0]!;
}

let f: InventoryFixture;
let pool: pg.Pool;
let db: SqlClient;
beforeAll(async () => {
  f = await inventoryFixture();
  pool = new pg.Pool({ connectionString: f.db.url, max: 8 });
  db = poolClient(pool);
});
afterAll(async () => {
  await pool?.end();
  await f?.close();
});

/** The records of these stock keys' products, as stored. */
function recordsOf(...keys: StockKey[]) {
  return f.sql<{
    product_id: string;
    quantity_available: number;
    quantity_reserved: number;
    version: number;
  }>(
    `select product_id, quantity_available::int, quantity_reserved::int, version from inventory_record
      where product_id = any(string_to_array(?, ','))`,
    [keys.map((k) => k.productId).join(',')],
  );
}

describe('stock changes written together', () => {
  function combiner(statements: number) {
    const histogram = new Histogram({
      name: 'lines',
      help: 'lines',
      buckets: [1, 64],
      registers: [new Registry()],
    });
    return { combiner: new MovementCombiner(db, { statements, requestsPerStatement: histogram }), histogram };
  }

  it('books the increases that wait behind a statement in one statement, each with its own version, row and event', async () => {
    const { combiner: writes, histogram } = combiner(1);
    const hot = keyOf('hot');
    const other = keyOf('other');
    const hotQuantities = Array.from({ length: 20 }, (_, i) => i + 1);
    const lines = [...hotQuantities.map((q) => increase(hot, q)), increase(other, 7), increase(other, 3)];
    const outcomes = (await Promise.all(lines.map((line) => writes.apply(line)))).map(booked);

    // The first found the slot free and went alone; the other 21 waited for it and went together.
    expect(await linesObserved(histogram)).toEqual({ statements: 2, lines: 22 });
    const hotOutcomes = outcomes.slice(0, 20);
    expect(hotOutcomes.map((o) => o.record.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    for (const [i, o] of hotOutcomes.entries()) {
      const [movement] = o.movements;
      expect(o.movements).toHaveLength(1);
      expect(movement!.quantityChange).toBe(hotQuantities[i]);
      expect(movement!.recordVersion).toBe(o.record.version);
      expect(movement!.availableAfter - movement!.availableBefore).toBe(hotQuantities[i]);
      expect(o.record.levels.available).toBe(movement!.availableAfter);
      const updated = o.events.filter((e) => e.type === 'inventory.updated');
      expect(updated).toHaveLength(1);
      expect(updated[0]!.data).toMatchObject({
        version: o.record.version,
        quantityAvailable: movement!.availableAfter,
      });
    }
    expect(outcomes.slice(20).map((o) => [o.record.version, o.record.levels.available])).toEqual([
      [1, 7],
      [2, 10],
    ]);
    const balances = await ledgerBalances(f);
    const hotRow = balances.find((b) => b.inventory_id === hotOutcomes[0]!.record.inventoryId)!;
    expect(hotRow).toMatchObject({
      quantity_available: 210,
      version: 20,
      ledger_available: 210,
      ledger_rows: 20,
    });
    const [outboxed] = await f.sql<{ n: number }>(
      `select count(*)::int as n from outbox where order_key = ? and event_type = 'inventory.updated'`,
      [`inventory:${hotOutcomes[0]!.record.inventoryId}`],
    );
    expect(outboxed?.n).toBe(20);
  });

  it('refuses in a refused combined statement the changes its records could not cover, and runs the others alone once', async () => {
    const { combiner: writes, histogram } = combiner(1);
    const held = keyOf('held');
    await tryApplyMovements(db, [
      {
        target: { key: held },
        changes: [
          { change: deltas.in(10), context },
          { change: deltas.reserve(2), context },
        ],
      },
    ]);
    // Releasing 5 of the 2 reserved refuses the statement it shares; the increases beside it run alone.
    const release: MovementLine = {
      target: { key: held },
      changes: [{ change: deltas.release(5), context }],
    };
    const first = keyOf('first');
    const a = keyOf('a');
    const b = keyOf('b');
    const [, refused, okA, okB] = await Promise.all([
      writes.apply(increase(first, 1)),
      writes.apply(release),
      writes.apply(increase(a, 4)),
      writes.apply(increase(b, 6)),
    ]);

    expect(await linesObserved(histogram)).toEqual({ statements: 2, lines: 4 });
    expect(refused!.ok).toBe(false);
    if (!refused!.ok) expect(refused!.error.code).toBe('INSUFFICIENT_STOCK');
    expect(booked(okA!).record).toMatchObject({ version: 1, levels: { available: 4 } });
    expect(booked(okB!).record).toMatchObject({ version: 1, levels: { available: 6 } });
    const rows = await recordsOf(held, a, b);
    expect(rows.find((r) => r.product_id === held.productId)).toMatchObject({
      quantity_available: 8,
      quantity_reserved: 2,
      version: 2,
    });
    expect(rows.filter((r) => r.product_id !== held.productId).map((r) => r.version)).toEqual([1, 1]);
  });

  it('writes every change alone when combining is off', async () => {
    const { combiner: writes, histogram } = combiner(0);
    const key = keyOf('off');
    const outcomes = (await Promise.all([1, 2, 3].map((q) => writes.apply(increase(key, q))))).map(booked);
    expect(outcomes.map((o) => o.record.version).sort()).toEqual([1, 2, 3]);
    expect(await linesObserved(histogram)).toEqual({ statements: 0, lines: 0 });
  });

  it('answers takes that waited together: those short on the record as seen are refused, the others run alone', async () => {
    const { combiner: writes, histogram } = combiner(1);
    const key = keyOf('takes');
    await tryApplyMovements(db, [increase(key, 5)]);
    const take = (quantity: number): MovementLine => ({
      target: { key },
      changes: [{ change: deltas.out(quantity), context }],
    });
    const [, first, second, greedy] = await Promise.all([
      writes.apply(increase(keyOf('blocker'), 1)),
      writes.apply(take(3)),
      writes.apply(take(3)),
      writes.apply(take(10)),
    ]);

    expect(await linesObserved(histogram)).toEqual({ statements: 2, lines: 4 });
    expect(greedy).toMatchObject({
      ok: false,
      error: { code: 'INSUFFICIENT_STOCK' },
      current: [{ version: 1 }],
    });
    expect([first!.ok, second!.ok].sort()).toEqual([false, true]);
    const [row] = await recordsOf(key);
    expect(row).toMatchObject({ quantity_available: 2, version: 2 });
  });

  it('combines only single unpinned changes by stock key without a location, count or minimum', () => {
    const key = keyOf('rule');
    expect(isCombinable(increase(key, 1))).toBe(true);
    expect(isCombinable({ target: { key }, changes: [{ change: deltas.out(1), context }] })).toBe(true);
    expect(isCombinable({ ...increase(key, 1), expectedVersion: 3 })).toBe(false);
    expect(isCombinable({ ...increase(key, 1), location: { rack: 'R1' } })).toBe(false);
    expect(isCombinable({ ...increase(key, 1), target: { inventoryId: 'inv-1' } })).toBe(false);
    expect(
      isCombinable({
        ...increase(key, 1),
        changes: [...increase(key, 1).changes, ...increase(key, 2).changes],
      }),
    ).toBe(false);
    expect(
      isCombinable({
        target: { key },
        changes: [{ change: { ...deltas.in(0), countedAvailable: 5 }, context }],
      }),
    ).toBe(false);
    expect(
      isCombinable({ target: { key }, changes: [{ change: { ...deltas.in(1), minimumStock: 5 }, context }] }),
    ).toBe(false);
  });
});

describe('reservations created together', () => {
  const caller = {
    claims: { sub: 'shop', warehouses: ['*'], roles: ['clerk' as const] },
    actor: 'shop',
    correlationId: null,
  };

  function combiner() {
    const histogram = new Histogram({
      name: 'requests',
      help: 'r',
      buckets: [1, 64],
      registers: [new Registry()],
    });
    return { writes: reservationCombiner(db, { statements: 1, requestsPerStatement: histogram }), histogram };
  }

  async function stocked(prefix: string, available: number): Promise<StockKey> {
    const key = keyOf(prefix);
    await tryApplyMovements(db, [increase(key, available)]);
    return key;
  }

  const reserve = (lines: { key: StockKey; quantity: number }[]) =>
    prepareReservation(
      {
        reference: 'order',
        expiresInSeconds: 900,
        lines: lines.map(({ key, quantity }) => ({ ...key, quantity })),
      },
      caller,
    );

  it('holds the stock of every reservation that waited, each movement with its own version and event', async () => {
    const { writes, histogram } = combiner();
    const [a, b] = [await stocked('ra', 100), await stocked('rb', 100)];
    const requests = [
      reserve([{ key: a, quantity: 1 }]),
      ...Array.from({ length: 10 }, (_, i) =>
        reserve([
          { key: a, quantity: i + 1 },
          { key: b, quantity: 2 },
        ]),
      ),
    ];
    const answers = await Promise.all(requests.map((r) => writes.write(r)));

    expect(await linesObserved(histogram)).toEqual({ statements: 2, lines: 11 });
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 'active'));
    const rows = await recordsOf(a, b);
    expect(rows.find((r) => r.product_id === a.productId)).toMatchObject({
      quantity_reserved: 56,
      version: 12,
    });
    expect(rows.find((r) => r.product_id === b.productId)).toMatchObject({
      quantity_reserved: 20,
      version: 11,
    });
    // Each line event carries the version of its own reservation's movement on that record.
    const events = await f.sql<{
      reservation: string;
      record: string;
      version: number;
      ledger_version: number;
    }>(
      `select o.payload->'data'->>'reservationId' as reservation, o.payload->'aggregate'->>'id' as record,
              (o.payload->'aggregate'->>'version')::int as version, m.record_version as ledger_version
         from outbox o
         join inventory_movement m on m.inventory_id = o.payload->'aggregate'->>'id'
                                  and m.reservation_id = o.payload->'data'->>'reservationId'
        where o.event_type = 'inventory.reservation_created'`,
    );
    expect(events).toHaveLength(21);
    for (const e of events) expect(e.version).toBe(e.ledger_version);
    const lines = await f.sql<{ n: number }>('select count(*)::int as n from order_reservation_line');
    expect(lines[0]?.n).toBe(21);
  });

  it('refuses in a refused combined statement the reservations asking for more than was held, and runs the others alone', async () => {
    const { writes, histogram } = combiner();
    const key = await stocked('short', 5);
    const [, first, second, greedy] = await Promise.allSettled([
      writes.write(reserve([{ key: await stocked('blocker', 1), quantity: 1 }])),
      writes.write(reserve([{ key, quantity: 3 }])),
      writes.write(reserve([{ key, quantity: 3 }])),
      writes.write(reserve([{ key, quantity: 10 }])),
    ]);

    expect(await linesObserved(histogram)).toEqual({ statements: 2, lines: 4 });
    expect(greedy).toMatchObject({ status: 'rejected', reason: { code: 'INSUFFICIENT_STOCK' } });
    const outcomes = [first, second].map((r) => r!.status).sort();
    expect(outcomes).toEqual(['fulfilled', 'rejected']);
    const [row] = await f.sql<{ a: number; r: number }>(
      'select quantity_available::int as a, quantity_reserved::int as r from inventory_record where product_id = ?',
      [key.productId],
    );
    expect(row).toEqual({ a: 2, r: 3 });
  });
});

describe('records created by concurrent statements', () => {
  it('creates new records in stock key order, so two statements creating the same ones cannot deadlock', async () => {
    const [low, high] = [keyOf('order-a'), keyOf('order-b')].sort((x, y) =>
      x.productId < y.productId ? -1 : 1,
    );
    const other = await pool.connect();
    try {
      // Another statement's transaction has created the first record and not committed yet.
      await other.query('begin');
      await tryApplyMovements(poolClient(other), [increase(low!, 1)]);
      // A statement naming the records the other way round waits for it at the first record, having created none.
      const statement = tryApplyMovements(db, [increase(high!, 2), increase(low!, 3)]);
      await eventually(async () => {
        // (Not on `other`: a transaction sees one snapshot of pg_stat_activity.)
        const { rows } = await pool.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`,
        );
        return rows[0]!.n === 1;
      });
      // So the other can go on to create the second record and commit, and the waiting statement then finds both.
      await tryApplyMovements(poolClient(other), [increase(high!, 4)]);
      await other.query('commit');
      const outcome = await statement;
      expect(outcome.ok).toBe(true);
    } finally {
      other.release();
    }
    const rows = await recordsOf(low!, high!);
    expect(rows.map((r) => [r.quantity_available, r.version]).sort()).toEqual([
      [4, 2],
      [6, 2],
    ]);
  });
});
