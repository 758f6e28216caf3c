import { AdjustResponse, type DomainEvent } from '@inv/contracts';
import { readStoredEvents } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InventoryFixture, inventoryFixture, ledgerBalances, uniqueKey } from './support.js';

describe('POST /api/inventory/adjust', () => {
  let f: InventoryFixture;
  beforeAll(async () => {
    f = await inventoryFixture();
  });
  afterAll(async () => f?.close());

  it('creates the record with the first in and answers the record and its movement', async () => {
    const key = uniqueKey();
    const res = await f.adjust({
      ...key,
      variantId: 'v-1',
      uomId: 'box',
      quantity: 10,
      movementType: 'in',
      source: 'warehouse',
      reason: 'Restock',
      rack: 'A1',
      bin: '05',
      zone: 'Main',
      aisle: 'Aisle-1',
    });
    expect(res.status).toBe(200);
    expect(AdjustResponse.safeParse(res.body).success).toBe(true);
    expect(res.body.inventory).toMatchObject({
      ...key,
      variantId: 'v-1',
      uomId: 'box',
      quantityAvailable: 10,
      quantityReserved: 0,
      version: 1,
      location: { rack: 'A1', bin: '05', zone: 'Main', aisle: 'Aisle-1' },
    });
    expect(res.body.movement).toMatchObject({
      movementType: 'in',
      quantityChange: 10,
      availableBefore: 0,
      availableAfter: 10,
      reason: 'Restock',
      source: 'warehouse',
      actor: 'test-user',
    });
    expect(res.body.movement.correlationId).toBeTruthy();
  });

  it('removes stock with out and refuses an out beyond what is available with 409 INSUFFICIENT_STOCK', async () => {
    const key = uniqueKey();
    await f.adjust({ ...key, quantity: 5, movementType: 'in' });
    const out = await f.adjust({ ...key, quantity: 3, movementType: 'out' });
    expect(out.body.inventory.quantityAvailable).toBe(2);
    const tooMuch = await f.adjust({ ...key, quantity: 3, movementType: 'out' });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      field: 'quantity',
      details: { available: 2, requested: 3 },
    });
    const missing = await f.adjust({ ...uniqueKey(), quantity: 1, movementType: 'out' });
    expect(missing.status).toBe(409);
    expect(missing.body.code).toBe('INSUFFICIENT_STOCK');
    const [record] = await f.sql(
      'select quantity_available::int as q, version from inventory_record where product_id = ?',
      [key.productId],
    );
    expect(record).toEqual({ q: 2, version: 2 });
  });

  it('lets an out go below zero only when it allows it', async () => {
    const key = uniqueKey();
    await f.adjust({ ...key, quantity: 1, movementType: 'in' });
    const body = { ...key, quantity: 4, movementType: 'out', allowNegative: true };
    // A manager's call (allow-negative.test.ts refuses a clerk).
    const backorder = await f.api('POST', '/api/inventory/adjust', { body, claims: { roles: ['manager'] } });
    expect(backorder.status).toBe(200);
    expect(backorder.body.inventory).toMatchObject({ quantityAvailable: -3, isOutOfStock: true });
  });

  it('sets available stock to a count with adjustment', async () => {
    const key = uniqueKey();
    await f.adjust({ ...key, quantity: 7, movementType: 'in' });
    const counted = await f.adjust({
      ...key,
      quantity: 4,
      movementType: 'adjustment',
      reason: 'cycle count',
    });
    expect(counted.body.inventory.quantityAvailable).toBe(4);
    expect(counted.body.movement).toMatchObject({
      movementType: 'adjustment',
      quantityChange: -3,
      availableBefore: 7,
    });
  });

  it('applies 50 concurrent +1 adjusts without losing one: every failure is 409 OPTIMISTIC_LOCK_FAILURE', async () => {
    const key = uniqueKey('race');
    const first = await f.adjust({ ...key, quantity: 100, movementType: 'in' });
    const inventoryId = first.body.inventory.inventoryId;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => f.adjust({ ...key, quantity: 1, movementType: 'in' })),
    );
    const succeeded = results.filter((r) => r.status === 200);
    const failed = results.filter((r) => r.status !== 200);
    for (const r of failed) {
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ code: 'OPTIMISTIC_LOCK_FAILURE', error: expect.any(String) });
    }
    expect(succeeded.length).toBeGreaterThan(0);
    const record = await f.api('GET', `/api/inventory/${inventoryId}`);
    expect(record.body.quantityAvailable).toBe(100 + succeeded.length);
    expect(record.body.version).toBe(1 + succeeded.length);
    // Every success has its own version.
    expect(new Set(succeeded.map((r) => r.body.inventory.version)).size).toBe(succeeded.length);

    const [balance] = (await ledgerBalances(f)).filter((b) => b.inventory_id === inventoryId);
    expect(balance).toMatchObject({
      ledger_available: 100 + succeeded.length,
      ledger_rows: 1 + succeeded.length,
    });
    await f.outboxDrained();
    const events = (await readStoredEvents(f.nc, `inventory.product.${key.productId}.>`)).map((s) => s.event);
    const updated = events.filter(
      (e): e is Extract<DomainEvent, { type: 'inventory.updated' }> => e.type === 'inventory.updated',
    );
    expect(updated.map((e) => e.data.version)).toEqual(
      Array.from({ length: 1 + succeeded.length }, (_, i) => i + 1),
    );
    const movementIds = (
      await f.sql(
        'select movement_id::text as id from inventory_movement where inventory_id = ? order by record_version',
        [inventoryId],
      )
    ).map((r) => r.id);
    expect(updated.map((e) => e.data.movementId)).toEqual(movementIds);
  });

  it('replays the first response to a retry with the same Idempotency-Key and changes nothing', async () => {
    const key = uniqueKey();
    const headers = { 'idempotency-key': `adjust-${key.productId}` };
    const body = { ...key, quantity: 4, movementType: 'in' as const };
    const first = await f.adjust(body, headers);
    const again = await Promise.all([f.adjust(body, headers), f.adjust(body, headers)]);
    expect(first.status).toBe(200);
    for (const r of again) {
      expect(r.status).toBe(200);
      expect(r.body).toEqual(first.body);
      expect(r.headers.get('idempotent-replayed')).toBe('true');
    }
    const [row] = await f.sql(
      'select r.quantity_available::int as q, r.version, count(m.*)::int as movements from inventory_record r join inventory_movement m using (inventory_id) where r.product_id = ? group by r.inventory_id',
      [key.productId],
    );
    expect(row).toEqual({ q: 4, version: 1, movements: 1 });
    const reused = await f.adjust({ ...body, quantity: 5 }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('refuses a stale If-Match at once with 409 and the current record', async () => {
    const key = uniqueKey();
    const created = await f.adjust({ ...key, quantity: 5, movementType: 'in' });
    await f.adjust({ ...key, quantity: 1, movementType: 'out' });
    const stale = await f.adjust({ ...key, quantity: 1, movementType: 'out' }, { 'if-match': '"1"' });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      code: 'OPTIMISTIC_LOCK_FAILURE',
      details: {
        reason: 'STALE_VERSION',
        expectedVersion: 1,
        currentVersion: 2,
        current: { inventoryId: created.body.inventory.inventoryId, quantityAvailable: 4, version: 2 },
      },
    });
    const viaBody = await f.adjust({ ...key, quantity: 1, movementType: 'out', expectedVersion: 1 });
    expect(viaBody.body.details.reason).toBe('STALE_VERSION');
    const current = await f.adjust({ ...key, quantity: 1, movementType: 'out' }, { 'if-match': '"2"' });
    expect(current.status).toBe(200);
    expect(current.body.inventory.version).toBe(3);
    const notCreatedYet = await f.adjust({
      ...uniqueKey(),
      quantity: 1,
      movementType: 'in',
      expectedVersion: 0,
    });
    expect(notCreatedYet.status).toBe(200);
  });

  const valid = { warehouseId: 'wh-1', productId: 'p-valid', quantity: 1, movementType: 'in' };
  it.each([
    ['a missing productId', { ...valid, productId: undefined }, 'productId'],
    ['a missing movementType', { ...valid, movementType: undefined }, 'movementType'],
    ['a quantity of the wrong type', { ...valid, quantity: '5' }, 'quantity'],
    ['a negative quantity', { ...valid, quantity: -1 }, 'quantity'],
    ['a fractional quantity', { ...valid, quantity: 1.5 }, 'quantity'],
    ['a zero quantity for in', { ...valid, quantity: 0 }, 'quantity'],
    ['an unknown movementType', { ...valid, movementType: 'teleport' }, 'movementType'],
    ['a transfer-only movementType', { ...valid, movementType: 'reservation' }, 'movementType'],
    ['a productId with a dot', { ...valid, productId: 'p.1' }, 'productId'],
    ['a warehouseId with >', { ...valid, warehouseId: 'wh>' }, 'warehouseId'],
    ['a variantId with a wildcard', { ...valid, variantId: 'v*' }, 'variantId'],
    ['an unknown field', { ...valid, colour: 'red' }, 'colour'],
    ['a negative minimumStock', { ...valid, minimumStock: -2 }, 'minimumStock'],
  ])('answers 400 naming the field for %s', async (_name, body, field) => {
    const res = await f.adjust(body as never);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });

  it('answers 400 for a body that is not JSON or not an object, and for a bad If-Match', async () => {
    const notJson = await f.api('POST', '/api/inventory/adjust', {
      headers: { 'content-type': 'application/json' },
      body: undefined,
    });
    expect(notJson.status).toBe(400);
    const array = await f.api('POST', '/api/inventory/adjust', { body: [1, 2] });
    expect(array.status).toBe(400);
    const badIfMatch = await f.adjust(valid as never, { 'if-match': 'yesterday' });
    expect(badIfMatch.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'If-Match' });
  });

  it('needs a token, the adjust permission and a claim on the warehouse', async () => {
    const body = { ...uniqueKey(), quantity: 1, movementType: 'in' };
    const anonymous = await f.api('POST', '/api/inventory/adjust', { body, token: null });
    expect(anonymous.status).toBe(401);
    const viewer = await f.api('POST', '/api/inventory/adjust', { body, claims: { roles: ['viewer'] } });
    expect(viewer.status).toBe(403);
    expect(viewer.body.code).toBe('FORBIDDEN');
    const elsewhere = await f.api('POST', '/api/inventory/adjust', {
      body,
      claims: { roles: ['clerk'], warehouses: ['wh-2'] },
    });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toMatchObject({ code: 'FORBIDDEN', field: 'warehouseId' });
    const allowed = await f.api('POST', '/api/inventory/adjust', {
      body,
      claims: { roles: ['clerk'], warehouses: ['wh-1'] },
    });
    expect(allowed.status).toBe(200);
    const rows = await f.sql('select count(*)::int as n from inventory_movement where product_id = ?', [
      body.productId,
    ]);
    expect(rows[0].n).toBe(1);
  });
});
