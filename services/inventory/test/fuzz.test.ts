import { AdjustRequest, REST_LIMITS } from '@inv/contracts';
import {
  badTokens,
  HOSTILE_IDS,
  hostileId,
  isClearRefusal,
  mostlyValid,
  rawJson,
  rawRequest,
  withStrayField,
} from '@inv/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InventoryFixture, inventoryFixture, ledgerBalances } from './support.js';

const field = mostlyValid;

const adjustBody = fc
  .record(
    {
      warehouseId: field(fc.constantFrom('fz-w1', 'fz-w2')),
      productId: field(fc.constantFrom('fz-p1', 'fz-p2', 'fz-p3')),
      variantId: field(fc.constantFrom(null, 'v1')),
      uomId: field(fc.constantFrom(null, 'each')),
      quantity: field(fc.integer({ min: 0, max: 50 })),
      movementType: field(fc.constantFrom('in', 'out', 'adjustment')),
      reason: field(fc.string({ maxLength: 40 })),
      rack: field(fc.string({ maxLength: 40 })),
      minimumStock: field(fc.integer({ min: 0, max: 20 })),
      allowNegative: field(fc.boolean()),
      expectedVersion: field(fc.integer({ min: 0, max: 5 })),
    },
    { requiredKeys: ['warehouseId', 'productId', 'quantity', 'movementType'] },
  )
  .chain(withStrayField);

/** Every route that takes an ID, with `{id}` where the hostile ID goes. */
const ID_ROUTES: Array<{ method: string; path: string; body?: unknown }> = [
  { method: 'GET', path: '/api/inventory/{id}' },
  { method: 'GET', path: '/api/inventory/{id}/movements' },
  { method: 'PATCH', path: '/api/inventory/{id}', body: { minimumStock: 1 } },
  {
    method: 'POST',
    path: '/api/inventory/{id}/batches',
    body: { batchNumber: 'B1', quantity: 1, expiresAt: '2030-01-01' },
  },
  { method: 'GET', path: '/api/inventory/product/{id}' },
  { method: 'GET', path: '/api/inventory/variant/{id}' },
  { method: 'GET', path: '/api/inventory/uom/{id}' },
  { method: 'GET', path: '/api/inventory/warehouse/{id}' },
  { method: 'GET', path: '/api/inventory/product/{id}/warehouse/wh-1' },
  { method: 'GET', path: '/api/inventory/product/p1/warehouse/{id}' },
  { method: 'GET', path: '/api/inventory?productId={id}' },
  { method: 'GET', path: '/api/inventory?warehouseId={id}' },
  { method: 'GET', path: '/api/inventory/low-stock?warehouseId={id}' },
  { method: 'GET', path: '/api/inventory/batches/expiring?warehouseId={id}' },
  { method: 'GET', path: '/api/reservations/{id}' },
  { method: 'POST', path: '/api/reservations/{id}/release', body: {} },
  { method: 'POST', path: '/api/reservations/{id}/extend', body: { expiresInSeconds: 60 } },
  { method: 'GET', path: '/api/reservations?warehouseId={id}' },
];

describe('inventory REST under hostile input', () => {
  let f: InventoryFixture;
  let token: string;
  beforeAll(async () => {
    f = await inventoryFixture();
    // A manager: generated bodies may set allowNegative, which a clerk may not (allow-negative.test.ts).
    token = await f.token({ roles: ['manager'], warehouses: ['*'] });
  });
  afterAll(async () => f?.close());

  const send = (method: string, path: string, body?: unknown, bearer: string | null = token) =>
    rawJson(f.service.url, method, path, { body, token: bearer });

  // 1,500 requests in a row: a budget for a loaded machine, not a timing assertion.
  it('answers 1,500 generated adjust bodies with 200, or a 4xx naming the problem, and keeps the ledger exact', {
    timeout: 120_000,
  }, async () => {
    let applied = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(adjustBody, async (body) => {
        const reply = await send('POST', '/api/inventory/adjust', body);
        const valid = AdjustRequest.safeParse(JSON.parse(JSON.stringify(body))).success;
        if (reply.status === 200) applied++;
        else refused++;
        if (valid) expect([200, 409]).toContain(reply.status);
        else expect(reply.body).toMatchObject({ code: 'VALIDATION_FAILED' });
        if (reply.status !== 200) expect(isClearRefusal(reply), JSON.stringify(reply.body)).toBe(true);
      }),
      { numRuns: 1_500, seed: 8_001 },
    );
    expect(applied).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
    // Every applied change is in the ledger once, and no refused one left a trace.
    const balances = await ledgerBalances(f);
    expect(balances.reduce((n, b) => n + b.ledger_rows, 0)).toBe(applied);
    for (const b of balances) {
      expect(b.quantity_available).toBe(b.ledger_available);
      expect(b.version).toBe(b.ledger_max_version);
    }
    console.log(
      `reliability: inventory fuzz 1500 adjust bodies, ${applied} applied, ${refused} refused, 0 errors`,
    );
  });

  it('shows a caller confined to one warehouse nothing of another, on every read', async () => {
    // Records of both warehouses exist, from the generated adjusts or from here.
    for (const warehouseId of ['fz-w1', 'fz-w2']) {
      await send('POST', '/api/inventory/adjust', {
        warehouseId,
        productId: 'fz-p1',
        quantity: 5,
        movementType: 'in',
      });
    }
    const confined = await f.token({ roles: ['admin'], warehouses: ['fz-w1'] });
    type Rows = { items: Array<{ warehouseId: string }>; warehouses: Array<{ warehouseId: string }> };
    const read = async (path: string) => (await send('GET', path, undefined, confined)).body as Rows;
    const listed = await read('/api/inventory?limit=200');
    expect(listed.items.length).toBeGreaterThan(0);
    expect(listed.items.every((r) => r.warehouseId === 'fz-w1')).toBe(true);
    for (const dimension of ['product/fz-p1', 'variant/v1', 'uom/each']) {
      const across = await read(`/api/inventory/${dimension}`);
      expect(
        across.warehouses.every((r) => r.warehouseId === 'fz-w1'),
        dimension,
      ).toBe(true);
    }
    const low = await read('/api/inventory/low-stock');
    expect(low.items.every((r) => r.warehouseId === 'fz-w1')).toBe(true);
    const others = await f.sql<{ inventory_id: string }>(
      "select inventory_id from inventory_record where warehouse_id = 'fz-w2'",
    );
    expect(others.length).toBeGreaterThan(0);
    for (const { inventory_id } of others) {
      for (const path of [`/api/inventory/${inventory_id}`, `/api/inventory/${inventory_id}/movements`]) {
        const reply = await send('GET', path, undefined, confined);
        expect(reply.status, path).toBe(403);
      }
      const write = await send('PATCH', `/api/inventory/${inventory_id}`, { minimumStock: 1 }, confined);
      expect(write.status).toBe(403);
    }
    for (const path of ['/api/inventory/warehouse/fz-w2', '/api/inventory/product/fz-p1/warehouse/fz-w2']) {
      expect((await send('GET', path, undefined, confined)).status, path).toBe(403);
    }
  });

  it('refuses every hostile ID in every ID path and query with a 4xx and a code', async () => {
    const cases = fc.sample(hostileId, { numRuns: 60, seed: 8_002 }).concat(HOSTILE_IDS);
    let tried = 0;
    for (const route of ID_ROUTES) {
      for (const id of cases) {
        const reply = await send(
          route.method,
          route.path.replace('{id}', encodeURIComponent(id)),
          route.body,
        );
        tried++;
        expect(
          [400, 404, 414],
          `${route.method} ${route.path} with ${JSON.stringify(id).slice(0, 80)}: ${JSON.stringify(reply.body)}`,
        ).toContain(reply.status);
        expect(isClearRefusal(reply)).toBe(true);
      }
    }
    // IDs with dot segments sent unencoded must not reach another route either.
    for (const path of ['/api/inventory/./movements', '/api/inventory/../inventory/x', '/api/inventory/*']) {
      const reply = await send('GET', path);
      expect(reply.status, path).toBeGreaterThanOrEqual(400);
      expect(reply.status, path).toBeLessThan(500);
    }
    console.log(`reliability: inventory fuzz ${tried} hostile ID requests, 0 accepted, 0 errors`);
  });

  it('refuses missing, expired, wrongly signed and malformed tokens on every route, and writes without the role', async () => {
    const routes = [
      ...ID_ROUTES.map((r) => ({ ...r, path: r.path.replace('{id}', 'p1') })),
      {
        method: 'POST',
        path: '/api/inventory/adjust',
        body: { warehouseId: 'w', productId: 'p', quantity: 1, movementType: 'in' },
      },
    ];
    for (const bad of await badTokens()) {
      for (const route of routes) {
        const reply = await send(route.method, route.path, route.body, bad.token);
        expect(reply.status, `${bad.kind} on ${route.method} ${route.path}`).toBe(401);
        expect(reply.body).toMatchObject({ code: 'UNAUTHORIZED' });
      }
    }
    const viewer = await f.token({ roles: ['viewer'], warehouses: ['*'] });
    for (const route of routes.filter((r) => r.method !== 'GET')) {
      const reply = await send(route.method, route.path, route.body, viewer);
      expect(reply.status, `viewer ${route.method} ${route.path}`).toBe(403);
      expect(reply.body).toMatchObject({ code: 'FORBIDDEN' });
    }
  });

  it('refuses bodies over the documented 64 KiB limit and non-JSON bodies, and stays healthy', async () => {
    const huge = {
      warehouseId: 'w1',
      productId: 'p1',
      quantity: 1,
      movementType: 'in',
      reason: 'x'.repeat(REST_LIMITS.maxBodyBytes),
    };
    const tooLarge = await send('POST', '/api/inventory/adjust', huge);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const megabytes = await rawRequest(f.service.url, {
      method: 'POST',
      path: '/api/inventory/adjust',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: Buffer.alloc(5 * 1024 * 1024, 0x20),
    }).catch(() => null);
    // The server may answer 413 or cut the upload short; either way it refuses, then answers others.
    if (megabytes) expect(megabytes.status).toBe(413);
    const garbage = fc.sample(fc.uint8Array({ maxLength: 200 }), { numRuns: 200, seed: 8_003 });
    for (const bytes of garbage) {
      const reply = await rawRequest(f.service.url, {
        method: 'POST',
        path: '/api/inventory/adjust',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: Buffer.from(bytes),
      });
      expect(isClearRefusal(reply), JSON.stringify(reply.body)).toBe(true);
    }
    const xml = await rawRequest(f.service.url, {
      method: 'POST',
      path: '/api/inventory/adjust',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' },
      body: '<adjust/>',
    });
    expect(xml.status).toBe(415);
    expect((await send('GET', '/healthz', undefined, null)).status).toBe(200);
  });
});
