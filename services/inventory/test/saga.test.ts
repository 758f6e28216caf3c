import { createEvent, DURABLE_CONSUMERS, EVENTS_STREAM, subjectOf } from '@inv/contracts';
import { eventually, readStoredEvents, testLogger } from '@inv/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransferSagaHandler } from '../src/app/transfer-saga.js';
import { type InventoryFixture, inventoryFixture, ledgerBalances } from './support.js';
import { DESTINATION, newTransfer, SOURCE } from './transfer-events.js';

describe('transfer saga (inventory side)', () => {
  let f: InventoryFixture;
  beforeAll(async () => {
    f = await inventoryFixture();
  });
  afterAll(async () => f?.close());

  let copies = 0;
  /** Publishes like the transfer service's relay; `copy` gives a redelivered duplicate its own message id. */
  const publish = async (event: ReturnType<ReturnType<typeof newTransfer>['event']>, copy = false) => {
    await jetstream(f.nc).publish(subjectOf(event), JSON.stringify(event), {
      msgID: copy ? `${event.id}-copy-${++copies}` : event.id,
    });
  };
  /** Waits until the durable consumer has applied and acknowledged everything published so far. */
  const settled = async () => {
    const jsm = await jetstreamManager(f.nc);
    await eventually(
      async () => {
        const info = await jsm.consumers.info(EVENTS_STREAM, DURABLE_CONSUMERS.inventoryTransfers.name);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { message: 'saga consumer to catch up' },
    );
  };
  const stock = async (productId: string, warehouseId: string) => {
    const [row] = await f.sql(
      'select quantity_available::int as available, quantity_reserved::int as reserved from inventory_record where product_id = ? and warehouse_id = ?',
      [productId, warehouseId],
    );
    return row ?? null;
  };
  const seed = async (productId: string, quantity: number) => {
    const res = await f.adjust({ productId, warehouseId: SOURCE, quantity, movementType: 'in' });
    expect(res.status).toBe(200);
  };
  const answers = async (transferId: string) =>
    (await readStoredEvents(f.nc, `inventory.reservation.${transferId}.>`)).map((s) => s.event);

  it('reserves every line at the source on approval and answers inventory.reserved', async () => {
    await seed('sg-a', 10);
    await seed('sg-b', 5);
    const t = newTransfer([
      { productId: 'sg-a', quantity: 4 },
      { productId: 'sg-b', quantity: 5 },
    ]);
    await publish(t.event('transfer.approved', 'approved'));
    await settled();
    expect(await stock('sg-a', SOURCE)).toEqual({ available: 6, reserved: 4 });
    expect(await stock('sg-b', SOURCE)).toEqual({ available: 0, reserved: 5 });
    await f.outboxDrained();
    const [answer] = await answers(t.transferId);
    expect(answer).toMatchObject({
      type: 'inventory.reserved',
      correlationId: `corr-${t.transferId}`,
      data: {
        transferId: t.transferId,
        warehouseId: SOURCE,
        lines: [
          { lineId: 'l1', quantity: 4 },
          { lineId: 'l2', quantity: 5 },
        ],
      },
    });
    const movements = await f.sql(
      'select movement_type, transfer_id, transfer_line_id from inventory_movement where transfer_id = ?',
      [t.transferId],
    );
    expect(movements).toHaveLength(2);
    expect(movements.every((m) => m.movement_type === 'reservation')).toBe(true);
  });

  it('reserves nothing and answers inventory.reservation_failed when one line is short', async () => {
    await seed('sg-c', 10);
    await seed('sg-d', 2);
    const t = newTransfer([
      { productId: 'sg-c', quantity: 4 },
      { productId: 'sg-d', quantity: 3 },
    ]);
    await publish(t.event('transfer.approved', 'approved'));
    await settled();
    expect(await stock('sg-c', SOURCE)).toEqual({ available: 10, reserved: 0 });
    expect(await stock('sg-d', SOURCE)).toEqual({ available: 2, reserved: 0 });
    await f.outboxDrained();
    const [answer] = await answers(t.transferId);
    expect(answer).toMatchObject({
      type: 'inventory.reservation_failed',
      data: {
        reason: 'INSUFFICIENT_STOCK',
        shortages: [{ lineId: 'l2', productId: 'sg-d', requested: 3, available: 2 }],
      },
    });
  });

  it('ships the reservation out and receives at the destination, noting a shortfall in the ledger', async () => {
    await seed('sg-e', 10);
    const t = newTransfer([{ productId: 'sg-e', quantity: 6 }]);
    await publish(t.event('transfer.approved', 'approved'));
    await publish(t.event('transfer.shipped', 'shipped', [{ shippedQuantity: 6 }]));
    await settled();
    expect(await stock('sg-e', SOURCE)).toEqual({ available: 4, reserved: 0 });
    await publish(
      t.event('transfer.received', 'received', [
        { shippedQuantity: 6, receivedQuantity: 5, discrepancy: -1 },
      ]),
    );
    await settled();
    expect(await stock('sg-e', DESTINATION)).toEqual({ available: 5, reserved: 0 });
    const ledger = await f.sql(
      'select warehouse_id, movement_type, quantity_change::int as q, reserved_change::int as r, reason from inventory_movement where transfer_id = ? order by movement_id',
      [t.transferId],
    );
    expect(ledger.map((m) => [m.warehouse_id, m.movement_type, m.q, m.r])).toEqual([
      [SOURCE, 'reservation', -6, 6],
      [SOURCE, 'transfer_out', 0, -6],
      [DESTINATION, 'transfer_in', 5, 0],
      [DESTINATION, 'transfer_discrepancy', 0, 0],
    ]);
    expect(ledger[3].reason).toContain('shipped 6, received 5, missing 1');
  });

  it('releases what is reserved when the transfer is cancelled', async () => {
    await seed('sg-f', 8);
    const t = newTransfer([{ productId: 'sg-f', quantity: 3 }]);
    await publish(t.event('transfer.approved', 'approved'));
    await publish(t.event('transfer.cancelled', 'cancelled'));
    await settled();
    expect(await stock('sg-f', SOURCE)).toEqual({ available: 8, reserved: 0 });
    const kinds = await f.sql(
      'select movement_type from inventory_movement where transfer_id = ? order by movement_id',
      [t.transferId],
    );
    expect(kinds.map((k) => k.movement_type)).toEqual(['reservation', 'release']);
  });

  it('ignores an approval that arrives after the cancellation', async () => {
    await seed('sg-g', 8);
    const t = newTransfer([{ productId: 'sg-g', quantity: 3 }]);
    const approved = t.event('transfer.approved', 'approved');
    await publish(t.event('transfer.cancelled', 'cancelled'));
    await publish(approved);
    await settled();
    expect(await stock('sg-g', SOURCE)).toEqual({ available: 8, reserved: 0 });
    expect(await f.sql('select * from inventory_movement where transfer_id = ?', [t.transferId])).toEqual([]);
  });

  it('applies each step exactly once when events are delivered again, also across a restart', async () => {
    await seed('sg-h', 20);
    const t = newTransfer([{ productId: 'sg-h', quantity: 5 }]);
    const approved = t.event('transfer.approved', 'approved');
    await publish(approved);
    await publish(approved, true);
    await settled();
    expect(await stock('sg-h', SOURCE)).toEqual({ available: 15, reserved: 5 });

    await f.restart();
    const shipped = t.event('transfer.shipped', 'shipped', [{ shippedQuantity: 5 }]);
    await publish(shipped);
    await publish(shipped, true);
    await publish(approved, true);
    // The same transition published again as a new event (new id, same transfer version): stale, no effect.
    await publish(createEvent('transfer.shipped', shipped.data, { aggregate: shipped.aggregate }));
    await settled();
    const received = t.event('transfer.received', 'received', [{ shippedQuantity: 5, receivedQuantity: 5 }]);
    await publish(received);
    await publish(received, true);
    await settled();
    expect(await stock('sg-h', SOURCE)).toEqual({ available: 15, reserved: 0 });
    expect(await stock('sg-h', DESTINATION)).toEqual({ available: 5, reserved: 0 });
    const kinds = await f.sql(
      'select movement_type from inventory_movement where transfer_id = ? order by movement_id',
      [t.transferId],
    );
    expect(kinds.map((k) => k.movement_type)).toEqual(['reservation', 'transfer_out', 'transfer_in']);
    await f.outboxDrained();
    expect((await answers(t.transferId)).map((e) => e.type)).toEqual(['inventory.reserved']);
  });

  it('books a step once when two events of one transfer are applied at the same time (a reconciliation beside the consumer)', async () => {
    await seed('race-a', 10);
    const other = newTransfer([{ productId: 'race-a', quantity: 4 }]);
    const t = newTransfer([{ productId: 'race-a', quantity: 4 }]);
    await publish(other.event('transfer.approved', 'approved'));
    await publish(t.event('transfer.approved', 'approved'));
    await settled();
    expect(await stock('race-a', SOURCE)).toEqual({ available: 2, reserved: 8 });

    // Applied as the inbox does, each in its own transaction: the first holds its transaction open.
    const handle = new TransferSagaHandler(testLogger('saga-race')).handle;
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let shippedApplied!: () => void;
    const shippedIn = new Promise<void>((resolve) => {
      shippedApplied = resolve;
    });
    const first = f.service.orm.em.fork().transactional(async (em) => {
      await handle(em, t.event('transfer.shipped', 'shipped'));
      shippedApplied();
      await held;
    });
    await shippedIn;
    const second = f.service.orm.em
      .fork()
      .transactional((em) => handle(em, t.event('transfer.received', 'received')));
    // The second waits on a lock the first holds (before the fix, on a reservation row, having read the saga).
    await eventually(
      async () =>
        (await f.sql<{ n: number }>('select count(*)::int as n from pg_locks where not granted'))[0]!.n > 0,
    );
    release();
    await Promise.all([first, second]);
    // The other transfer's hold of 4 is intact: the shipment took its 4 once.
    expect(await stock('race-a', SOURCE)).toEqual({ available: 2, reserved: 4 });
  });

  it('keeps every record equal to the sum of its ledger', async () => {
    for (const balance of await ledgerBalances(f)) {
      expect(balance.quantity_available).toBe(balance.ledger_available);
      expect(balance.quantity_reserved).toBe(balance.ledger_reserved);
      expect(balance.version).toBe(balance.ledger_rows);
    }
  });
});
