import { InventoryPage, LowStockResponse, MovementPage, VariantStockResponse } from '@inv/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InventoryFixture, inventoryFixture } from './support.js';

describe('reads', () => {
  let f: InventoryFixture;
  const ids: Record<string, string> = {};
  const onlyA = { roles: ['viewer' as const], warehouses: ['wh-a'] };

  beforeAll(async () => {
    f = await inventoryFixture();
    const rows = [
      [
        'a-v1',
        {
          productId: 'p1',
          warehouseId: 'wh-a',
          variantId: 'v1',
          uomId: 'box',
          quantity: 10,
          minimumStock: 5,
        },
      ],
      [
        'b-v1',
        { productId: 'p1', warehouseId: 'wh-b', variantId: 'v1', uomId: 'box', quantity: 2, minimumStock: 5 },
      ],
      ['a-v2', { productId: 'p1', warehouseId: 'wh-a', variantId: 'v2', uomId: 'each', quantity: 7 }],
      [
        'a-p2',
        { productId: 'p2', warehouseId: 'wh-a', variantId: null, uomId: 'box', quantity: 1, minimumStock: 6 },
      ],
    ] as const;
    for (const [name, row] of rows) {
      const res = await f.adjust({ ...row, movementType: 'in' });
      expect(res.status).toBe(200);
      ids[name] = res.body.inventory.inventoryId;
    }
  });
  afterAll(async () => f?.close());

  it('shows a variant across warehouses in the original shape, limited to the warehouses claimed', async () => {
    const all = await f.api('GET', '/api/inventory/variant/v1');
    expect(VariantStockResponse.safeParse(all.body).success).toBe(true);
    expect(all.body).toMatchObject({
      variantId: 'v1',
      totalAvailable: 12,
      totalReserved: 0,
      isLowStock: true,
    });
    expect(all.body.warehouses.map((w: { warehouseId: string }) => w.warehouseId)).toEqual(['wh-a', 'wh-b']);
    const mine = await f.api('GET', '/api/inventory/variant/v1', { claims: onlyA });
    expect(mine.body).toMatchObject({ totalAvailable: 10, isLowStock: false });
    expect(mine.body.warehouses).toHaveLength(1);
    const none = await f.api('GET', '/api/inventory/variant/nothing-here');
    expect(none.body).toMatchObject({ warehouses: [], totalAvailable: 0, isLowStock: false });
  });

  it('shows a unit of measure and a product across warehouses', async () => {
    const uom = await f.api('GET', '/api/inventory/uom/box');
    expect(uom.body).toMatchObject({ uomId: 'box', totalAvailable: 13 });
    expect(uom.body.warehouses).toHaveLength(3);
    const product = await f.api('GET', '/api/inventory/product/p1');
    expect(product.body).toMatchObject({ productId: 'p1', totalAvailable: 19, isLowStock: true });
  });

  it('lists low stock with deficits, the largest first, within the claimed warehouses', async () => {
    const low = await f.api('GET', '/api/inventory/low-stock');
    expect(LowStockResponse.safeParse(low.body).success).toBe(true);
    expect(low.body.total).toBe(2);
    expect(
      low.body.items.map((i: { inventoryId: string; deficit: number }) => [i.inventoryId, i.deficit]),
    ).toEqual([
      // Created later, so after it by id: the order comes from the deficit.
      [ids['a-p2'], 5],
      [ids['b-v1'], 3],
    ]);
    const mine = await f.api('GET', '/api/inventory/low-stock', { claims: onlyA });
    expect(mine.body.items.map((i: { inventoryId: string }) => i.inventoryId)).toEqual([ids['a-p2']]);
    const limited = await f.api('GET', '/api/inventory/low-stock?limit=1');
    expect(limited.body).toMatchObject({ total: 2, items: [expect.anything()] });
  });

  it('pages through a warehouse, a product and a product in a warehouse with keyset cursors', async () => {
    const first = await f.api('GET', '/api/inventory/warehouse/wh-a?limit=2');
    expect(InventoryPage.safeParse(first.body).success).toBe(true);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.page.nextCursor).toEqual(expect.any(String));
    const second = await f.api(
      'GET',
      `/api/inventory/warehouse/wh-a?limit=2&after=${first.body.page.nextCursor}`,
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.page.nextCursor).toBeNull();
    const seen = [...first.body.items, ...second.body.items].map(
      (r: { inventoryId: string }) => r.inventoryId,
    );
    expect(new Set(seen)).toEqual(new Set([ids['a-v1'], ids['a-v2'], ids['a-p2']]));

    const productInWarehouse = await f.api('GET', '/api/inventory/product/p1/warehouse/wh-a');
    expect(productInWarehouse.body.items).toHaveLength(2);
    const listed = await f.api('GET', '/api/inventory?productId=p1&limit=50');
    expect(listed.body.items).toHaveLength(3);
    const filtered = await f.api('GET', '/api/inventory?limit=50', { claims: onlyA });
    expect(filtered.body.items).toHaveLength(3);
    const noClaims = await f.api('GET', '/api/inventory', { claims: { roles: ['viewer'], warehouses: [] } });
    expect(noClaims.body.items).toEqual([]);
  });

  it('refuses a warehouse outside the claims, an unknown record, a bad cursor and a bad limit', async () => {
    const elsewhere = await f.api('GET', '/api/inventory/warehouse/wh-b', { claims: onlyA });
    expect(elsewhere.status).toBe(403);
    const other = await f.api('GET', `/api/inventory/${ids['b-v1']}`, { claims: onlyA });
    expect(other.status).toBe(403);
    const otherLedger = await f.api('GET', `/api/inventory/${ids['b-v1']}/movements`, { claims: onlyA });
    expect(otherLedger.status).toBe(403);
    expect(otherLedger.body.items).toBeUndefined();
    const unknown = await f.api('GET', '/api/inventory/no-such-record');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('NOT_FOUND');
    const unknownLedger = await f.api('GET', '/api/inventory/no-such-record/movements');
    expect(unknownLedger.body).toMatchObject({ code: 'NOT_FOUND' });
    const badCursor = await f.api('GET', '/api/inventory?after=bm90LWEtY3Vyc29y');
    expect(badCursor.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'after' });
    // Cursors and searches PostgreSQL cannot take (a NUL in text, a year it cannot store) were 500s.
    const cursor = (position: unknown) => Buffer.from(JSON.stringify(position)).toString('base64url');
    for (const path of [
      '/api/products?q=%00',
      '/api/warehouses?q=a%00',
      `/api/inventory?after=${cursor(['\u0000'])}`,
      `/api/inventory/low-stock?after=${cursor([1, '\u0000'])}`,
      `/api/inventory/${ids['a-v2']}/batches?after=${cursor(['-200000-01-01T00:00:00Z', 'x'])}`,
    ]) {
      const refused = await f.api('GET', path);
      expect([path, refused.status, refused.body.code]).toEqual([path, 400, 'VALIDATION_FAILED']);
    }
    const badLimit = await f.api('GET', '/api/inventory?limit=0');
    expect(badLimit.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'limit' });
    const badId = await f.api('GET', '/api/inventory/variant/v.1');
    expect(badId.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'variantId' });
    const anonymous = await f.api('GET', '/api/inventory', { token: null });
    expect(anonymous.status).toBe(401);
  });

  it('shows one record and its movement history, newest first, page by page', async () => {
    const key = { productId: 'p1', warehouseId: 'wh-a', variantId: 'v2', uomId: 'each' };
    await f.adjust({ ...key, quantity: 3, movementType: 'out', reason: 'picked' });
    await f.adjust({ ...key, quantity: 9, movementType: 'adjustment', reason: 'count' });
    const record = await f.api('GET', `/api/inventory/${ids['a-v2']}`, { claims: onlyA });
    expect(record.body).toMatchObject({ quantityAvailable: 9, version: 3 });
    expect(record.headers.get('etag')).toBe('"3"');
    const first = await f.api('GET', `/api/inventory/${ids['a-v2']}/movements?limit=2`);
    expect(MovementPage.safeParse(first.body).success).toBe(true);
    expect(first.body.items.map((m: { movementType: string }) => m.movementType)).toEqual([
      'adjustment',
      'out',
    ]);
    const rest = await f.api(
      'GET',
      `/api/inventory/${ids['a-v2']}/movements?limit=2&after=${first.body.page.nextCursor}`,
    );
    expect(rest.body.items.map((m: { movementType: string }) => m.movementType)).toEqual(['in']);
    expect(rest.body.page.nextCursor).toBeNull();
  });

  it('serves health, readiness, metrics and the OpenAPI document without a token', async () => {
    expect((await f.api('GET', '/healthz', { token: null })).status).toBe(200);
    const ready = await f.api('GET', '/readyz', { token: null });
    expect(ready.body).toEqual({
      status: 'ok',
      checks: {
        database: { ok: true },
        nats: { ok: true },
        'consumer:inventory-transfer-events': { ok: true },
      },
    });
    const metrics = await f.api('GET', '/metrics', { token: null });
    expect(metrics.body).toContain('outbox_pending_events');
    expect(metrics.body).toContain('outbox_relay_lag_seconds');
    expect(metrics.body).toContain('http_request_duration_seconds');
    const docs = await f.api('GET', '/docs/json', { token: null });
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/inventory/adjust',
        '/api/inventory/low-stock',
        '/api/inventory/{inventoryId}/batches',
      ]),
    );
  });
});
