import { createEvent, subjectOf, type TransferEventData } from '@inv/contracts';
import { eventually } from '@inv/testkit';
import { jetstream } from '@nats-io/jetstream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InventoryFixture, inventoryFixture, ledgerBalances, uniqueKey } from './support.js';

const WAREHOUSE = 'wh-1';

type Operation =
  | { kind: 'in' | 'out' | 'adjustment'; product: number; quantity: number; allowNegative: boolean }
  | { kind: 'transfer'; product: number; quantity: number; ending: 'cancelled' | 'shipped' | 'received' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('in' as const, 'out' as const, 'adjustment' as const),
    product: fc.integer({ min: 0, max: 2 }),
    quantity: fc.integer({ min: 1, max: 30 }),
    allowNegative: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('transfer' as const),
    product: fc.integer({ min: 0, max: 2 }),
    quantity: fc.integer({ min: 1, max: 30 }),
    ending: fc.constantFrom('cancelled' as const, 'shipped' as const, 'received' as const),
  }),
);

describe('ledger', () => {
  let f: InventoryFixture;
  beforeAll(async () => {
    f = await inventoryFixture();
  });
  afterAll(async () => f?.close());

  let transfers = 0;
  /** Drives a transfer through its events as the transfer service would publish them; returns how many. */
  const runTransfer = async (productId: string, quantity: number, ending: string): Promise<number> => {
    const transferId = `lt-${++transfers}`;
    const steps: [
      TransferEventData['status'],
      'transfer.approved' | 'transfer.shipped' | 'transfer.received' | 'transfer.cancelled',
    ][] = [['approved', 'transfer.approved']];
    if (ending === 'cancelled') steps.push(['cancelled', 'transfer.cancelled']);
    else steps.push(['shipped', 'transfer.shipped']);
    if (ending === 'received') steps.push(['received', 'transfer.received']);
    let version = 1;
    for (const [status, type] of steps) {
      version++;
      const data: TransferEventData = {
        transferId,
        sourceWarehouseId: WAREHOUSE,
        destinationWarehouseId: 'wh-2',
        status,
        previousStatus: null,
        reservationStatus: 'pending',
        version,
        lines: [
          {
            lineId: 'l1',
            productId,
            variantId: null,
            uomId: null,
            quantity,
            shippedQuantity: status === 'approved' || status === 'cancelled' ? null : quantity,
            // Receipts come up one short now and then, so discrepancy entries are part of the ledger too.
            receivedQuantity: status === 'received' ? Math.max(0, quantity - (quantity % 2)) : null,
            discrepancy: null,
          },
        ],
        actor: 'ledger-test',
        reason: null,
        timestamp: new Date().toISOString(),
      };
      const event = createEvent(type, data, { aggregate: { type: 'transfer', id: transferId, version } });
      await jetstream(f.nc).publish(subjectOf(event), JSON.stringify(event), { msgID: event.id });
    }
    return steps.length;
  };

  let published = 0;
  /** Every transfer event published so far is in the inbox: the saga has applied it. */
  const sagaDone = () =>
    eventually(
      async () => {
        const [row] = await f.sql('select count(*)::int as n from inbox');
        return row.n === published;
      },
      { timeoutMs: 20_000, message: 'every transfer event to be applied' },
    );

  it('keeps every record equal to the sum of its ledger over random operations, saga movements included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 5, maxLength: 25 }), async (operations) => {
        const products = [uniqueKey('lg'), uniqueKey('lg'), uniqueKey('lg')].map((k) => k.productId);
        // Every run includes a whole transfer with a short receipt, whatever else it draws.
        const always: Operation[] = [
          { kind: 'in', product: 0, quantity: 40, allowNegative: false },
          { kind: 'transfer', product: 0, quantity: 5, ending: 'received' },
        ];
        for (const op of [...always, ...operations]) {
          const productId = products[op.product]!;
          if (op.kind === 'transfer') {
            published += await runTransfer(productId, op.quantity, op.ending);
            continue;
          }
          const body = {
            productId,
            warehouseId: WAREHOUSE,
            quantity: op.quantity,
            movementType: op.kind,
            allowNegative: op.kind === 'out' ? op.allowNegative : undefined,
          };
          // allowNegative is a manager's call.
          const res = await f.api('POST', '/api/inventory/adjust', { body, claims: { roles: ['manager'] } });
          expect([200, 409]).toContain(res.status);
        }
        await sagaDone();
        for (const balance of await ledgerBalances(f)) {
          expect(balance.quantity_available).toBe(balance.ledger_available);
          expect(balance.quantity_reserved).toBe(balance.ledger_reserved);
          expect(balance.version).toBe(balance.ledger_rows);
          expect(balance.version).toBe(balance.ledger_max_version);
        }
      }),
      { numRuns: 6 },
    );
    const kinds = (await f.sql('select distinct movement_type from inventory_movement')).map(
      (k) => k.movement_type,
    );
    expect(kinds).toEqual(
      expect.arrayContaining(['in', 'reservation', 'transfer_out', 'transfer_in', 'transfer_discrepancy']),
    );
  });

  it('refuses to change or delete ledger rows', async () => {
    await f.adjust({ ...uniqueKey(), quantity: 1, movementType: 'in' });
    await expect(f.sql('update inventory_movement set quantity_change = 100')).rejects.toThrow(/append-only/);
    await expect(f.sql('delete from inventory_movement')).rejects.toThrow(/append-only/);
  });
});

describe('threshold events', () => {
  let f: InventoryFixture;
  beforeAll(async () => {
    f = await inventoryFixture();
  });
  afterAll(async () => f?.close());

  const alerts = async (inventoryId: string) =>
    (
      await f.sql<{ event_type: string; available: number }>(
        `select event_type, (payload->'data'->>'quantityAvailable')::int as available from outbox
          where event_type in ('inventory.low_stock', 'inventory.out_of_stock')
            and payload->'data'->>'inventoryId' = ? order by id`,
        [inventoryId],
      )
    ).map((r) => [r.event_type.replace('inventory.', ''), r.available]);

  it('publishes low_stock and out_of_stock when a change crosses the line, not on every change beyond it', async () => {
    const key = uniqueKey('th');
    const created = await f.adjust({ ...key, quantity: 20, movementType: 'in', minimumStock: 10 });
    const inventoryId = created.body.inventory.inventoryId;
    for (const [movementType, quantity] of [
      ['out', 5],
      ['out', 6],
      ['out', 2],
      ['out', 7],
      ['in', 20],
      ['out', 15],
      ['adjustment', 0],
      ['adjustment', 0],
    ] as const) {
      const res = await f.adjust({ ...key, quantity, movementType });
      expect(res.status).toBe(200);
    }
    expect(await alerts(inventoryId)).toEqual([
      ['low_stock', 9],
      ['out_of_stock', 0],
      ['low_stock', 5],
      ['out_of_stock', 0],
    ]);
    const updates = await f.sql(
      "select count(*)::int as n from outbox where event_type = ? and payload->'data'->>'inventoryId' = ?",
      ['inventory.updated', inventoryId],
    );
    expect(updates[0].n).toBe(9);
  });

  it('publishes low_stock when a higher minimum makes a record low', async () => {
    const key = uniqueKey('th');
    const created = await f.adjust({ ...key, quantity: 5, movementType: 'in' });
    const inventoryId = created.body.inventory.inventoryId;
    const raised = await f.api('PATCH', `/api/inventory/${inventoryId}`, {
      body: { minimumStock: 8, rack: 'R9' },
      headers: { 'if-match': '1' },
    });
    expect(raised.status).toBe(200);
    expect(raised.body.inventory).toMatchObject({
      minimumStock: 8,
      isLowStock: true,
      version: 2,
      location: { rack: 'R9' },
    });
    expect(raised.body.movement).toMatchObject({ movementType: 'adjustment', quantityChange: 0 });
    expect(raised.body.movement.reason).toContain('minimumStock 0 -> 8');
    expect(await alerts(inventoryId)).toEqual([['low_stock', 5]]);
    const stale = await f.api('PATCH', `/api/inventory/${inventoryId}`, {
      body: { minimumStock: 1, expectedVersion: 1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.details).toMatchObject({ reason: 'STALE_VERSION', currentVersion: 2 });
    const empty = await f.api('PATCH', `/api/inventory/${inventoryId}`, { body: {} });
    expect(empty.status).toBe(400);
  });

  it('accepts a location in the shape GET returns, as well as flat fields', async () => {
    const created = await f.adjust({ ...uniqueKey('loc'), quantity: 1, movementType: 'in' });
    const inventoryId = created.body.inventory.inventoryId;
    const nested = await f.api('PATCH', `/api/inventory/${inventoryId}`, {
      body: { location: { rack: 'R2', bin: '07', zone: 'Cold' } },
    });
    expect(nested.status).toBe(200);
    expect(nested.body.inventory.location).toEqual({ rack: 'R2', bin: '07', zone: 'Cold', aisle: null });
    const flat = await f.api('PATCH', `/api/inventory/${inventoryId}`, { body: { aisle: 'A4' } });
    expect(flat.body.inventory.location).toEqual({ rack: 'R2', bin: '07', zone: 'Cold', aisle: 'A4' });
    const unknown = await f.api('PATCH', `/api/inventory/${inventoryId}`, {
      body: { location: { shelf: 'S1' } },
    });
    expect(unknown.status).toBe(400);
  });
});
