import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InventoryFixture, inventoryFixture } from './support.js';

describe('warehouse and product summaries', () => {
  let f: InventoryFixture;
  beforeAll(async () => {
    f = await inventoryFixture();
    const stock: [string, string, string | null, number, number][] = [
      ['cat-w1', 'cat-apple', null, 10, 0],
      ['cat-w1', 'cat-apple', 'red', 3, 5],
      ['cat-w1', 'cat-pear', null, 4, 0],
      ['cat-w2', 'cat-apple', null, 7, 0],
      ['cat-w3', 'cat-plum', null, 1, 0],
    ];
    for (const [warehouseId, productId, variantId, quantity, minimumStock] of stock) {
      const done = await f.adjust({
        warehouseId,
        productId,
        variantId,
        quantity,
        minimumStock,
        movementType: 'in',
      });
      expect(done.status).toBe(200);
    }
  });
  afterAll(async () => f?.close());

  it('counts records, products and low stock per warehouse, aggregated over its records', async () => {
    const page = await f.api('GET', '/api/warehouses');
    expect(page.status).toBe(200);
    expect(page.body.items).toEqual([
      {
        warehouseId: 'cat-w1',
        records: 3,
        products: 2,
        totalAvailable: 17,
        totalReserved: 0,
        lowStock: 1,
        outOfStock: 0,
      },
      expect.objectContaining({ warehouseId: 'cat-w2', records: 1, totalAvailable: 7 }),
      expect.objectContaining({ warehouseId: 'cat-w3', records: 1, totalAvailable: 1 }),
    ]);
  });

  it('pages products with the shared cursor and filters them by prefix', async () => {
    const first = await f.api('GET', '/api/products?limit=2');
    expect(first.body.items.map((p: { productId: string }) => p.productId)).toEqual([
      'cat-apple',
      'cat-pear',
    ]);
    expect(first.body.items[0]).toMatchObject({ records: 3, warehouses: 2, variants: 1, totalAvailable: 20 });
    const next = await f.api('GET', `/api/products?limit=2&after=${first.body.page.nextCursor}`);
    expect(next.body).toMatchObject({ items: [{ productId: 'cat-plum' }], page: { nextCursor: null } });
    const search = await f.api('GET', '/api/products?q=cat-p');
    expect(search.body.items.map((p: { productId: string }) => p.productId)).toEqual([
      'cat-pear',
      'cat-plum',
    ]);
    const badCursor = await f.api('GET', '/api/products?after=nonsense');
    expect(badCursor.status).toBe(400);
  });

  it('shows a caller confined to one warehouse nothing of the others', async () => {
    const claims = { roles: ['viewer' as const], warehouses: ['cat-w2'] };
    const warehouses = await f.api('GET', '/api/warehouses', { claims });
    expect(warehouses.body.items.map((w: { warehouseId: string }) => w.warehouseId)).toEqual(['cat-w2']);
    const products = await f.api('GET', '/api/products', { claims });
    expect(products.body.items).toEqual([
      expect.objectContaining({ productId: 'cat-apple', records: 1, totalAvailable: 7 }),
    ]);
    const nobody = await f.api('GET', '/api/warehouses', {
      claims: { roles: ['viewer' as const], warehouses: [] },
    });
    expect(nobody.body.items).toEqual([]);
    const anonymous = await f.api('GET', '/api/warehouses', { token: null });
    expect(anonymous.status).toBe(401);
  });
});
