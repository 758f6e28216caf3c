import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InventoryFixture, inventoryFixture, uniqueKey } from './support.js';

describe('allowNegative on POST /api/inventory/adjust', () => {
  let f: InventoryFixture;
  beforeAll(async () => {
    f = await inventoryFixture();
  });
  afterAll(async () => f?.close());

  const adjustAs = (role: 'clerk' | 'manager', body: Record<string, unknown>) =>
    f.api('POST', '/api/inventory/adjust', { body, claims: { roles: [role], warehouses: ['*'] } });

  it('refuses a clerk taking stock below zero with 403 naming the manager role, and books nothing', async () => {
    const key = uniqueKey();
    expect((await adjustAs('clerk', { ...key, quantity: 5, movementType: 'in' })).status).toBe(200);
    const refused = await adjustAs('clerk', {
      ...key,
      quantity: 8,
      movementType: 'out',
      allowNegative: true,
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'FORBIDDEN',
      field: 'allowNegative',
      details: { role: 'manager', reason: 'ALLOW_NEGATIVE' },
    });
    const [row] = await f.sql(
      'select quantity_available::int as quantity_available, version from inventory_record where product_id = ? and warehouse_id = ?',
      [key.productId, key.warehouseId],
    );
    expect(row).toMatchObject({ quantity_available: 5, version: 1 });
  });

  it('lets a clerk adjust with allowNegative false, and a manager go below zero', async () => {
    const key = uniqueKey();
    await adjustAs('clerk', { ...key, quantity: 5, movementType: 'in' });
    const clerk = await adjustAs('clerk', { ...key, quantity: 2, movementType: 'out', allowNegative: false });
    expect(clerk.status).toBe(200);
    const manager = await adjustAs('manager', {
      ...key,
      quantity: 8,
      movementType: 'out',
      allowNegative: true,
    });
    expect(manager.status).toBe(200);
    expect(manager.body.inventory.quantityAvailable).toBe(-5);
  });
});
