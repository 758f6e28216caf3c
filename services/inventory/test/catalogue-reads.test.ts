import {
  BatchPage,
  ExpiringBatchesResponse,
  InventoryPage,
  InventoryRecord,
  LowStockResponse,
  MovementPage,
  UomStockResponse,
  VariantStockResponse,
} from '@inv/contracts';
import { eventually } from '@inv/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogueIds, type LoadedCatalogue, loadCatalogue } from '../../../bench/src/scale/loader.js';
import { type InventoryFixture, inventoryFixture } from './support.js';

// biome-ignore lint/suspicious/noExplicitAny: tests inspect JSON bodies loosely
type Json = any;

/** Follows `nextCursor` from the first page to the last; returns every item and the first page's body. */
async function everyPage(
  f: InventoryFixture,
  path: string,
  itemsOf: (body: Json) => Json[] = (b) => b.items,
) {
  const items: Json[] = [];
  let first: Json = null;
  let after: string | null = null;
  for (let pages = 0; pages < 1_000; pages++) {
    const sep = path.includes('?') ? '&' : '?';
    const res: { status: number; body: Json } = await f.api(
      'GET',
      after ? `${path}${sep}after=${after}` : path,
    );
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
    first ??= res.body;
    const page = itemsOf(res.body);
    expect(page.length).toBeLessThanOrEqual(res.body.page.limit);
    items.push(...page);
    after = res.body.page.nextCursor;
    if (!after) return { items, first };
  }
  throw new Error(`${path} never ended`);
}

/**
 * The GETs write their answers without a zod pass (trustedJsonSerializer): each must already be exactly its
 * contract's shape, no field missing, none extra.
 */
function expectContract(
  schema: { safeParse(body: unknown): { success: boolean; data?: unknown } },
  body: Json,
) {
  const parsed = schema.safeParse(body);
  expect(parsed.success, JSON.stringify(body)).toBe(true);
  expect(parsed.data).toEqual(body);
}

const idsOf = (items: Json[], key = 'inventoryId') => items.map((item) => item[key] as string);

describe('reads at catalogue scale (loader, small)', () => {
  let f: InventoryFixture;
  let db: pg.Client;
  let loaded: LoadedCatalogue;
  const ids = catalogueIds('cat');

  beforeAll(async () => {
    f = await inventoryFixture();
    db = new pg.Client({ connectionString: f.db.url });
    await db.connect();
    loaded = await loadCatalogue(db, {
      skus: 30,
      warehouses: 4,
      movements: 3,
      lowShare: 0.1,
      batchShare: 0.25,
    });
  });
  afterAll(async () => {
    await db?.end();
    await f?.close();
  });

  const sql = async <T = Json>(text: string, params: unknown[] = []) =>
    (await db.query(text, params)).rows as T[];

  it('loads a consistent catalogue: records equal their ledger sums, versions count the movements', async () => {
    expect(loaded).toMatchObject({ records: 120, movements: 360 });
    expect(loaded.lowStock).toBeGreaterThan(0);
    expect(loaded.batches).toBeGreaterThan(0);
    const mismatches = await sql(
      `select r.inventory_id from inventory_record r
         join (select inventory_id, sum(quantity_change) as a, sum(reserved_change) as r, count(*) as n,
                      max(record_version) as v
                 from inventory_movement group by inventory_id) l using (inventory_id)
        where l.a <> r.quantity_available or l.r <> r.quantity_reserved or l.n <> r.version or l.v <> r.version`,
    );
    expect(mismatches).toEqual([]);
    // The ledger stays append-only after the load.
    await expect(db.query('delete from inventory_movement where record_version = 1')).rejects.toThrow(
      /append-only/,
    );
  });

  it('pages a unit across warehouses: every record once, totals and low stock over the whole set', async () => {
    const { items, first } = await everyPage(f, '/api/inventory/uom/each?limit=7', (b) => b.warehouses);
    expect(UomStockResponse.safeParse(first).success).toBe(true);
    const [expected] = await sql(
      `select count(*)::int as n, sum(quantity_available)::int as a, sum(quantity_reserved)::int as r,
              bool_or(minimum_stock > 0 and quantity_available < minimum_stock) as low,
              array_agg(inventory_id order by inventory_id) as ids
         from inventory_record where uom_id = 'each'`,
    );
    expect(idsOf(items).sort()).toEqual(expected.ids.sort());
    expect(new Set(idsOf(items)).size).toBe(items.length);
    expect(first).toMatchObject({
      uomId: 'each',
      total: expected.n,
      totalAvailable: expected.a,
      totalReserved: expected.r,
      isLowStock: expected.low,
    });
    expect(first.warehouses).toHaveLength(7);
  });

  it('pages a variant and a product, and sums per warehouse with groupBy=warehouse', async () => {
    const variant = await everyPage(
      f,
      `/api/inventory/variant/${ids.variant(4)}?limit=3`,
      (b) => b.warehouses,
    );
    expect(VariantStockResponse.safeParse(variant.first).success).toBe(true);
    expect(idsOf(variant.items).sort()).toEqual(
      (
        await sql<{ id: string }>(`select inventory_id as id from inventory_record where variant_id = $1`, [
          ids.variant(4),
        ])
      )
        .map((r) => r.id)
        .sort(),
    );
    const product = await everyPage(
      f,
      `/api/inventory/product/${ids.product(2)}?limit=5`,
      (b) => b.warehouses,
    );
    expect(product.items).toHaveLength(12);
    expect(new Set(idsOf(product.items)).size).toBe(12);

    const grouped = await f.api('GET', '/api/inventory/uom/box?groupBy=warehouse&limit=1');
    const perWarehouse = await sql(
      `select warehouse_id as "warehouseId", count(*)::int as records, sum(quantity_available)::int as "totalAvailable",
              sum(quantity_reserved)::int as "totalReserved",
              (count(*) filter (where quantity_available < minimum_stock))::int as "lowStockRecords"
         from inventory_record where uom_id = 'box' group by warehouse_id order by warehouse_id`,
    );
    expect(grouped.body.byWarehouse).toEqual(perWarehouse);
    expect(grouped.body.warehouses).toHaveLength(1);
    const plain = await f.api('GET', '/api/inventory/uom/box');
    expect(plain.body.byWarehouse).toBeUndefined();
    expect(plain.body.page.limit).toBe(50);
  });

  it('sums a first page holding every record exactly as the database sums them over pages, for every scope', async () => {
    const twoWarehouses = { roles: ['viewer' as const], warehouses: [ids.warehouse(0), ids.warehouse(2)] };
    const cases: Array<[string, typeof twoWarehouses | undefined]> = [
      [`/api/inventory/product/${ids.product(3)}`, undefined],
      [`/api/inventory/variant/${ids.variant(5)}`, undefined],
      [`/api/inventory/product/${ids.product(3)}`, twoWarehouses],
    ];
    for (const [path, claims] of cases) {
      const whole = await f.api('GET', `${path}?groupBy=warehouse`, { claims });
      const paged = await f.api('GET', `${path}?groupBy=warehouse&limit=1`, { claims });
      expect(whole.body.page.nextCursor, path).toBeNull();
      expect(paged.body.page.nextCursor, path).not.toBeNull();
      const totals = (body: Json) => ({
        total: body.total,
        totalAvailable: body.totalAvailable,
        totalReserved: body.totalReserved,
        isLowStock: body.isLowStock,
        byWarehouse: body.byWarehouse,
      });
      expect(totals(whole.body), path).toEqual(totals(paged.body));
      expect(whole.body.byWarehouse.length, path).toBeGreaterThan(1);
    }
  });

  it('pages low stock largest deficit first with a total over all of them, within the claimed warehouses', async () => {
    const { items, first } = await everyPage(f, '/api/inventory/low-stock?limit=3');
    expect(LowStockResponse.safeParse(first).success).toBe(true);
    const expected = await sql<{ id: string; deficit: number }>(
      `select inventory_id as id, (minimum_stock - quantity_available)::int as deficit from inventory_record
        where minimum_stock > 0 and quantity_available < minimum_stock
        order by minimum_stock - quantity_available desc, inventory_id`,
    );
    expect(items.map((i) => [i.inventoryId, i.deficit])).toEqual(expected.map((e) => [e.id, e.deficit]));
    expect(first.total).toBe(expected.length);

    const wh = ids.warehouse(1);
    const mine = await f.api('GET', '/api/inventory/low-stock?limit=200', {
      claims: { roles: ['viewer'], warehouses: [wh] },
    });
    const inWarehouse = expected.filter((e) => e.id.endsWith('-w0001'));
    expect(mine.body.total).toBe(inWarehouse.length);
    expect(idsOf(mine.body.items)).toEqual(inWarehouse.map((e) => e.id));
  });

  it('pages expiring batches soonest first with a total over the window', async () => {
    const { items, first } = await everyPage(f, '/api/inventory/batches/expiring?withinDays=400&limit=4');
    expect(ExpiringBatchesResponse.safeParse(first).success).toBe(true);
    const expected = await sql<{ id: string }>(
      `select batch_id as id from inventory_batch
        where remaining > 0 and expires_at > now() and expires_at <= now() + interval '400 days'
        order by expires_at, batch_id`,
    );
    expect(idsOf(items, 'batchId')).toEqual(expected.map((e) => e.id));
    expect(first.total).toBe(expected.length);
    expect(first.items).toHaveLength(4);
  });

  it('pages the whole catalogue, a warehouse and a ledger, each record once', async () => {
    const all = await everyPage(f, '/api/inventory?limit=17');
    expect(all.items).toHaveLength(120);
    expect(new Set(idsOf(all.items)).size).toBe(120);
    const warehouse = await everyPage(f, `/api/inventory/warehouse/${ids.warehouse(2)}?limit=9`);
    expect(warehouse.items).toHaveLength(30);
    const ledger = await everyPage(f, `/api/inventory/${ids.record(5, 0)}/movements?limit=2`);
    expect(ledger.items.map((m: Json) => m.movementType)).toEqual(['reservation', 'in', 'in']);
    expectContract(InventoryPage, all.first);
    expectContract(InventoryPage, warehouse.first);
    expectContract(MovementPage, ledger.first);
    expectContract(InventoryRecord, (await f.api('GET', `/api/inventory/${ids.record(5, 0)}`)).body);
  });

  it('answers every read in exactly its contract shape', async () => {
    const batch = (
      await db.query<{ inventory_id: string }>('select inventory_id from inventory_batch limit 1')
    ).rows[0]!;
    const answers: [Parameters<typeof expectContract>[0], string][] = [
      [UomStockResponse, `/api/inventory/uom/${ids.uoms[0]}?limit=3&groupBy=warehouse`],
      [VariantStockResponse, `/api/inventory/variant/${ids.variant(4)}`],
      [LowStockResponse, '/api/inventory/low-stock?limit=3'],
      [ExpiringBatchesResponse, '/api/inventory/batches/expiring?withinDays=400&limit=3'],
      [BatchPage, `/api/inventory/${batch.inventory_id}/batches`],
    ];
    for (const [schema, path] of answers) {
      const res = await f.api('GET', path);
      expect(res.status, path).toBe(200);
      expectContract(schema, res.body);
    }
  });

  it('refuses a limit above the documented maximum with 400 naming limit, on every list', async () => {
    for (const path of [
      '/api/inventory?limit=201',
      '/api/inventory/uom/each?limit=201',
      `/api/inventory/variant/${ids.variant(1)}?limit=201`,
      `/api/inventory/product/${ids.product(1)}?limit=201`,
      `/api/inventory/warehouse/${ids.warehouse(1)}?limit=201`,
      '/api/inventory/low-stock?limit=201',
      '/api/inventory/batches/expiring?limit=201',
      `/api/inventory/${ids.record(5, 0)}/movements?limit=201`,
    ]) {
      const res = await f.api('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body, path).toMatchObject({ code: 'VALIDATION_FAILED', field: 'limit' });
    }
    const badCursor = await f.api('GET', '/api/inventory/low-stock?after=WyJ4IiwieSJd');
    expect(badCursor.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'after' });
    const badGroup = await f.api('GET', '/api/inventory/uom/each?groupBy=product');
    expect(badGroup.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'groupBy' });
  });
});

describe('read gate and totals cache', () => {
  let f: InventoryFixture;
  let db: pg.Client;

  beforeAll(async () => {
    // Every aggregate counts as large here, and none is refreshed during the file.
    f = await inventoryFixture({
      READ_CONCURRENCY: '1',
      READ_QUEUE: '0',
      TOTALS_CACHE_MIN_ROWS: '1',
      TOTALS_CACHE_MS: '600000',
    });
    db = new pg.Client({ connectionString: f.db.url });
    await db.connect();
    await loadCatalogue(db, { skus: 6, warehouses: 2, movements: 1, prefix: 'gate' });
  });
  afterAll(async () => {
    await db?.query('rollback').catch(() => undefined);
    await db?.end();
    await f?.close();
  });

  it('answers 503 SERVER_BUSY with Retry-After when the expensive reads are full, and serves again once they finish', async () => {
    // A lock that stalls the one allowed read inside the gate.
    await db.query('begin');
    await db.query('lock table inventory_record in access exclusive mode');
    const stalled = f.api('GET', '/api/inventory/uom/each');
    await eventually(
      async () => {
        const rows = await db.query(
          `select count(*)::int as n from pg_locks where not granted and relation = 'inventory_record'::regclass`,
        );
        return rows.rows[0].n > 0;
      },
      { timeoutMs: 10_000, message: 'the first read to wait on the lock' },
    );
    const refused = await f.api('GET', '/api/inventory/low-stock');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'SERVER_BUSY' });
    expect(refused.headers.get('retry-after')).toBe('1');
    await db.query('rollback');
    expect((await stalled).status).toBe(200);
    const after = await f.api('GET', '/api/inventory/low-stock');
    expect(after.status).toBe(200);
  });

  it('serves large totals from the cache with the time they were computed, while the page stays current', async () => {
    // Pages of one record: a first page holding every record would sum them itself, with no aggregate to keep.
    const first = await f.api('GET', '/api/inventory/uom/box?limit=1');
    expect(first.status).toBe(200);
    expect(first.body.page.nextCursor).not.toBeNull();
    const created = await f.adjust({
      productId: 'gate-new',
      warehouseId: 'gate-wh0',
      uomId: 'box',
      quantity: 40,
      movementType: 'in',
    });
    expect(created.status).toBe(200);
    const second = await f.api('GET', `/api/inventory/uom/box?limit=${first.body.total}`);
    expect(second.body.page.nextCursor).not.toBeNull();
    expect(second.body.warehouses.map((r: Json) => r.inventoryId)).toContain(
      created.body.inventory.inventoryId,
    );
    expect(second.body).toMatchObject({
      total: first.body.total,
      totalAvailable: first.body.totalAvailable,
      totalsAsOf: first.body.totalsAsOf,
    });
    // Another caller's scope is another aggregate: computed now, with the new record.
    const scoped = await f.api('GET', '/api/inventory/uom/box?limit=1', {
      claims: { roles: ['viewer'], warehouses: ['gate-wh0', 'gate-wh1'] },
    });
    expect(scoped.body.total).toBe(first.body.total + 1);
    expect(scoped.body.totalAvailable).toBe(first.body.totalAvailable + 40);
  });

  it('serves the low-stock count from the cache with the time it was counted, while the page stays current', async () => {
    // At least one low record, so the count is kept (TOTALS_CACHE_MIN_ROWS is 1 here).
    const seed = { productId: 'gate-low-0', warehouseId: 'gate-wh0', movementType: 'in' } as const;
    expect((await f.adjust({ ...seed, quantity: 1, minimumStock: 10 })).status).toBe(200);
    const first = await f.api('GET', '/api/inventory/low-stock');
    expect(first.status).toBe(200);
    expect(LowStockResponse.safeParse(first.body).success).toBe(true);
    // A new record below its minimum, with the largest deficit: first on the page.
    const low = await f.adjust({
      productId: 'gate-low',
      warehouseId: 'gate-wh1',
      quantity: 1,
      minimumStock: 1_000,
      movementType: 'in',
    });
    expect(low.status).toBe(200);
    const second = await f.api('GET', '/api/inventory/low-stock');
    expect(second.body.items[0]).toMatchObject({ inventoryId: low.body.inventory.inventoryId, deficit: 999 });
    expect(second.body).toMatchObject({ total: first.body.total, totalsAsOf: first.body.totalsAsOf });
    expect(Date.parse(second.body.timestamp)).toBeGreaterThanOrEqual(Date.parse(first.body.timestamp));
    // Another scope is another count: made now, with the new record.
    const scoped = await f.api('GET', '/api/inventory/low-stock?warehouseId=gate-wh1');
    const [{ n }] = await db
      .query(
        `select count(*)::int as n from inventory_record
          where warehouse_id = 'gate-wh1' and minimum_stock > 0 and quantity_available < minimum_stock`,
      )
      .then((r) => r.rows);
    expect(scoped.body.total).toBe(n);
    expect(idsOf(scoped.body.items)).toContain(low.body.inventory.inventoryId);
  });

  it('reads without parallel workers, so a large aggregate takes one core and leaves the other to writes', async () => {
    const [row] = await f.sql('show max_parallel_workers_per_gather');
    expect(row).toEqual({ max_parallel_workers_per_gather: '0' });
  });

  it('serves the expiring-batch count from the cache with the time it was counted, while the page stays current', async () => {
    const path = '/api/inventory/batches/expiring?withinDays=3';
    const record = await f.adjust({
      productId: 'gate-exp',
      warehouseId: 'gate-wh0',
      quantity: 5,
      movementType: 'in',
    });
    const inventoryId = record.body.inventory.inventoryId;
    const addBatch = (batchNumber: string, hours: number) =>
      f.api('POST', `/api/inventory/${inventoryId}/batches`, {
        body: { batchNumber, quantity: 1, expiresAt: new Date(Date.now() + hours * 3_600_000).toISOString() },
      });
    expect((await addBatch('LOT-later', 48)).status).toBe(201);
    const first = await f.api('GET', path);
    expect(first.status).toBe(200);
    expect(ExpiringBatchesResponse.safeParse(first.body).success).toBe(true);
    // A batch expiring sooner than any: first on the page at once, counted at the next refresh.
    expect((await addBatch('LOT-sooner', 1)).status).toBe(201);
    const second = await f.api('GET', path);
    expect(second.body.items[0]).toMatchObject({ batchNumber: 'LOT-sooner' });
    expect(second.body).toMatchObject({ total: first.body.total, totalsAsOf: first.body.totalsAsOf });
    // Another scope is another count: made now, with the new batch.
    const scoped = await f.api('GET', `${path}&warehouseId=gate-wh0`);
    expect(scoped.body.total).toBe(2);
    expect(Date.parse(scoped.body.totalsAsOf)).toBeGreaterThan(Date.parse(first.body.totalsAsOf));
  });
});
