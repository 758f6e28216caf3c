import { BatchPage, CreateBatchResponse, ExpiringBatchesResponse } from '@inv/contracts';
import { readStoredEvents, testLogger } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchExpiryScanner } from '../src/index.js';
import { type InventoryFixture, inventoryFixture } from './support.js';

const DAY = 86_400_000;

describe('batches', () => {
  let f: InventoryFixture;
  let inventoryId: string;
  const start = new Date();
  const inDays = (days: number) => new Date(start.getTime() + days * DAY);
  const batchIds: Record<string, string> = {};

  beforeAll(async () => {
    f = await inventoryFixture();
    const created = await f.adjust({
      productId: 'bp',
      warehouseId: 'wh-b1',
      quantity: 1,
      movementType: 'in',
    });
    inventoryId = created.body.inventory.inventoryId;
  });
  afterAll(async () => f?.close());

  const addBatch = (body: Record<string, unknown>, id = inventoryId) =>
    f.api('POST', `/api/inventory/${id}/batches`, { body });

  it('adds a batch and books its quantity as an in with the batch id', async () => {
    for (const [name, days] of [
      ['far', 40],
      ['month', 20],
      ['week', 5],
    ] as const) {
      const res = await addBatch({
        batchNumber: `LOT-${name}`,
        quantity: 10,
        expiresAt: inDays(days).toISOString(),
      });
      expect(res.status).toBe(201);
      expect(CreateBatchResponse.safeParse(res.body).success).toBe(true);
      expect(res.body.movement).toMatchObject({
        movementType: 'in',
        quantityChange: 10,
        batchId: res.body.batch.batchId,
      });
      batchIds[name] = res.body.batch.batchId;
    }
    const record = await f.api('GET', `/api/inventory/${inventoryId}`);
    expect(record.body.quantityAvailable).toBe(31);
    const dateOnly = await addBatch({ batchNumber: 'LOT-date', quantity: 1, expiresAt: '2031-05-01' });
    expect(dateOnly.body.batch.expiresAt).toBe('2031-05-01T00:00:00.000Z');
  });

  it('refuses bad batches with 400 naming the field, and unknown records with 404', async () => {
    expect((await addBatch({ batchNumber: 'x', quantity: 0, expiresAt: '2031-01-01' })).body.field).toBe(
      'quantity',
    );
    expect((await addBatch({ batchNumber: 'x', quantity: 1, expiresAt: 'soon' })).body.field).toBe(
      'expiresAt',
    );
    expect((await addBatch({ batchNumber: '', quantity: 1, expiresAt: '2031-01-01' })).body.field).toBe(
      'batchNumber',
    );
    // ISO strings that parse but that PostgreSQL cannot store (year 0; year 10000 in UTC) were 500s.
    for (const expiresAt of ['0000-01-01', '9999-12-31T23:00:00-02:00']) {
      const refused = await addBatch({ batchNumber: 'x', quantity: 1, expiresAt });
      expect([expiresAt, refused.status, refused.body.field]).toEqual([expiresAt, 400, 'expiresAt']);
    }
    const unknown = await addBatch({ batchNumber: 'x', quantity: 1, expiresAt: '2031-01-01' }, 'missing');
    expect(unknown.status).toBe(404);
  });

  it("lists one record's batches soonest expiry first, paged, only to callers who see its warehouse", async () => {
    const first = await f.api('GET', `/api/inventory/${inventoryId}/batches?limit=2`);
    expect(first.status).toBe(200);
    expect(BatchPage.safeParse(first.body).success).toBe(true);
    const numbers = (page: { items: { batchNumber: string }[] }) => page.items.map((b) => b.batchNumber);
    expect(numbers(first.body)).toEqual(['LOT-week', 'LOT-month']);
    const rest = await f.api(
      'GET',
      `/api/inventory/${inventoryId}/batches?limit=2&after=${first.body.page.nextCursor}`,
    );
    expect(numbers(rest.body)).toEqual(['LOT-far', 'LOT-date']);
    expect(rest.body.page.nextCursor).toBeNull();
    const elsewhere = await f.api('GET', `/api/inventory/${inventoryId}/batches`, {
      claims: { warehouses: ['wh-other'] },
    });
    expect(elsewhere.status).toBe(403);
    expect((await f.api('GET', '/api/inventory/missing/batches')).status).toBe(404);
  });

  it('lists batches expiring within a number of days, soonest first', async () => {
    const month = await f.api('GET', '/api/inventory/batches/expiring?withinDays=30');
    expect(ExpiringBatchesResponse.safeParse(month.body).success).toBe(true);
    expect(month.body.items.map((b: { batchNumber: string }) => b.batchNumber)).toEqual([
      'LOT-week',
      'LOT-month',
    ]);
    expect(month.body.items[0]).toMatchObject({ productId: 'bp', warehouseId: 'wh-b1', daysUntilExpiry: 4 });
    const week = await f.api('GET', '/api/inventory/batches/expiring?withinDays=7');
    expect(week.body.total).toBe(1);
    const elsewhere = await f.api('GET', '/api/inventory/batches/expiring?withinDays=60', {
      claims: { roles: ['viewer'], warehouses: ['wh-other'] },
    });
    expect(elsewhere.body.items).toEqual([]);
  });

  const notices = async () =>
    (
      await f.sql<{ batch: string; threshold: number; days: number }>(
        `select payload->'data'->>'batchId' as batch, (payload->'data'->>'thresholdDays')::int as threshold,
                (payload->'data'->>'daysUntilExpiry')::int as days
           from outbox where event_type = 'batch.expiring_soon' order by id`,
      )
    ).map((n) => [Object.keys(batchIds).find((k) => batchIds[k] === n.batch), n.threshold, n.days]);

  it('announces batch.expiring_soon once per batch and threshold, the tightest when several are reached at once', async () => {
    const scanner = f.service.scanner;
    expect(await scanner.scanOnce(start)).toBe(2);
    // Soonest expiry first; scanned at `start` itself, whole days are left (5 and 20).
    expect(await notices()).toEqual([
      ['week', 7, 5],
      ['month', 30, 20],
    ]);
    expect(await scanner.scanOnce(start)).toBe(0);
    expect(await scanner.scanOnce(inDays(15))).toBe(2);
    expect(await scanner.scanOnce(inDays(19.5))).toBe(1);
    expect(await scanner.scanOnce(inDays(19.6))).toBe(0);
    expect((await notices()).slice(2)).toEqual([
      ['month', 7, 5],
      ['far', 30, 25],
      ['month', 1, 0],
    ]);
    await f.outboxDrained();
    const published = await readStoredEvents(f.nc, 'inventory.product.bp.>');
    const expiring = published.filter((s) => s.event.type === 'batch.expiring_soon');
    expect(expiring).toHaveLength(5);
    expect(expiring.every((s) => s.subject.endsWith('.batch_expiring_soon'))).toBe(true);
  });

  it('announces once even when several instances scan at the same time', async () => {
    await addBatch({ batchNumber: 'LOT-race', quantity: 2, expiresAt: inDays(3).toISOString() });
    const other = new BatchExpiryScanner({
      orm: f.service.orm,
      logger: testLogger(),
      thresholdsDays: [30, 7, 1],
      intervalMs: 0,
    });
    const counts = await Promise.all([f.service.scanner.scanOnce(start), other.scanOnce(start)]);
    expect(counts[0] + counts[1]).toBe(1);
    const rows = await f.sql(
      `select count(*)::int as n from outbox where event_type = 'batch.expiring_soon' and payload->'data'->>'batchNumber' = 'LOT-race'`,
    );
    expect(rows[0].n).toBe(1);
  });

  it('takes leaving stock from the first-expiring batches, so lists and alerts show what is left', async () => {
    const key = { productId: 'fefo', warehouseId: 'wh-fefo' };
    const created = await f.adjust({ ...key, quantity: 2, movementType: 'in' });
    const id = created.body.inventory.inventoryId;
    const soon = await addBatch(
      { batchNumber: 'F-soon', quantity: 10, expiresAt: inDays(5).toISOString() },
      id,
    );
    const later = await addBatch(
      { batchNumber: 'F-later', quantity: 10, expiresAt: inDays(9).toISOString() },
      id,
    );
    expect(soon.body.batch.remaining).toBe(10);

    expect((await f.adjust({ ...key, quantity: 12, movementType: 'out' })).status).toBe(200);
    const remaining = async () =>
      Object.fromEntries(
        (
          await f.sql<{ batch_number: string; remaining: string }>(
            'select batch_number, remaining from inventory_batch where inventory_id = ?',
            [id],
          )
        ).map((b) => [b.batch_number, Number(b.remaining)]),
      );
    expect(await remaining()).toEqual({ 'F-soon': 0, 'F-later': 8 });
    const listed = await f.api('GET', '/api/inventory/batches/expiring?withinDays=30&warehouseId=wh-fefo');
    expect(
      listed.body.items.map((b: { batchId: string; remaining: number }) => [b.batchId, b.remaining]),
    ).toEqual([[later.body.batch.batchId, 8]]);

    // A count lower than what is on the shelf takes the difference the same way (batches before untracked
    // stock, which never expires); a higher one takes nothing.
    expect((await f.adjust({ ...key, quantity: 3, movementType: 'adjustment' })).status).toBe(200);
    expect(await remaining()).toEqual({ 'F-soon': 0, 'F-later': 1 });
    expect((await f.adjust({ ...key, quantity: 5, movementType: 'adjustment' })).status).toBe(200);
    expect(await remaining()).toEqual({ 'F-soon': 0, 'F-later': 1 });
  });

  it('gives a batch added to a record below zero only what covers more than the deficit', async () => {
    const key = { productId: 'neg-batch', warehouseId: 'wh-neg' };
    const short = await f.api('POST', '/api/inventory/adjust', {
      body: { ...key, quantity: 5, movementType: 'out', allowNegative: true },
      claims: { roles: ['manager'] },
    });
    expect(short.status).toBe(200);
    const id = short.body.inventory.inventoryId;
    const added = await addBatch(
      { batchNumber: 'N-1', quantity: 10, expiresAt: inDays(30).toISOString() },
      id,
    );
    expect(added.body.inventory.quantityAvailable).toBe(5);
    // Before, the batch held all 10 while the record had 5: an `out 5` left 0 on hand and 5 in the batch.
    expect(added.body.batch).toMatchObject({ quantity: 10, remaining: 5 });
    expect((await f.adjust({ ...key, quantity: 5, movementType: 'out' })).status).toBe(200);
    const [left] = await f.sql<{ remaining: string }>(
      'select remaining from inventory_batch where inventory_id = ?',
      [id],
    );
    expect(Number(left!.remaining)).toBe(0);
  });
});
