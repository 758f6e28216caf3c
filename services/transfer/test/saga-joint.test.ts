import type { Transfer } from '@inv/contracts';
import { eventually } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JointFixture, jointFixture } from './joint.js';
import { newTransferBody, uniqueId } from './support.js';

describe('transfer saga with the inventory service (both running)', () => {
  let f: JointFixture;
  let source: string;
  let destination: string;
  beforeAll(async () => {
    f = await jointFixture();
  });
  afterAll(async () => f?.close());

  const api = () => f.transfer.api;
  /** A transfer between two fresh warehouses; the source holds `stock` of each product. */
  const prepare = async (lines: { quantity: number; stock: number; atDestination?: number }[]) => {
    source = uniqueId('src');
    destination = uniqueId('dst');
    const products = lines.map(() => uniqueId('p'));
    for (const [i, line] of lines.entries()) {
      if (line.stock > 0) await f.inventory.seed(products[i]!, source, line.stock);
      if (line.atDestination) await f.inventory.seed(products[i]!, destination, line.atDestination);
    }
    const reply = await api().create(
      newTransferBody(
        lines.map((line, i) => ({ productId: products[i]!, quantity: line.quantity })),
        { sourceWarehouseId: source, destinationWarehouseId: destination },
      ),
    );
    expect(reply.status).toBe(201);
    return reply.body;
  };
  const reservedNow = async (transfer: Transfer) => {
    await api().must(transfer.transferId, 'approve');
    return api().until(transfer.transferId, (t) => t.reservationStatus === 'reserved', 'reservation');
  };
  /** Waits until inventory has booked `count` movements of the transfer. */
  const booked = async (transferId: string, type: string, count: number) => {
    return eventually(
      async () => {
        const rows = (await f.inventory.ledger(transferId)).filter((m) => m.movement_type === type);
        return rows.length >= count ? rows : null;
      },
      { timeoutMs: 20_000, message: `${count} ${type} movement(s)` },
    );
  };

  it('moves the stock: source and destination end at before ± quantity; reserved rises at approval and falls at shipment', async () => {
    const transfer = await prepare([
      { quantity: 30, stock: 100, atDestination: 20 },
      { quantity: 10, stock: 10 },
    ]);
    const id = transfer.transferId;
    const before = await f.stockOf(transfer);
    expect(before).toEqual({
      source: [
        { available: 100, reserved: 0 },
        { available: 10, reserved: 0 },
      ],
      destination: [
        { available: 20, reserved: 0 },
        { available: 0, reserved: 0 },
      ],
    });

    await reservedNow(transfer);
    expect((await f.stockOf(transfer)).source).toEqual([
      { available: 70, reserved: 30 },
      { available: 0, reserved: 10 },
    ]);

    await api().must(id, 'start-picking');
    await api().must(id, 'pack');
    await api().must(id, 'ship');
    await booked(id, 'transfer_out', 2);
    expect((await f.stockOf(transfer)).source).toEqual([
      { available: 70, reserved: 0 },
      { available: 0, reserved: 0 },
    ]);

    const received = await api().receiveAll((await api().get(id)).body);
    expect(received.hasDiscrepancy).toBe(false);
    await booked(id, 'transfer_in', 2);
    const completed = await api().must(id, 'complete');
    expect(completed.status).toBe('completed');

    const after = await f.stockOf(transfer);
    expect(after.source).toEqual([
      { available: 100 - 30, reserved: 0 },
      { available: 10 - 10, reserved: 0 },
    ]);
    expect(after.destination).toEqual([
      { available: 20 + 30, reserved: 0 },
      { available: 0 + 10, reserved: 0 },
    ]);
    const ledger = await f.inventory.ledger(id);
    expect(ledger.map((m) => m.movement_type).sort()).toEqual(
      ['reservation', 'reservation', 'transfer_out', 'transfer_out', 'transfer_in', 'transfer_in'].sort(),
    );
  });

  it('records a receipt short of the shipment as a discrepancy in the transfer and in the ledger', async () => {
    const transfer = await prepare([{ quantity: 12, stock: 12 }]);
    const id = transfer.transferId;
    await reservedNow(transfer);
    await api().must(id, 'start-picking');
    await api().must(id, 'pack');
    await api().must(id, 'ship');
    const received = await api().must(id, 'receive', { lines: [{ lineId: 'line-1', receivedQuantity: 9 }] });
    expect(received.hasDiscrepancy).toBe(true);
    expect(received.lines[0]).toMatchObject({ shippedQuantity: 12, receivedQuantity: 9, discrepancy: 3 });
    const [note] = await booked(id, 'transfer_discrepancy', 1);
    expect(note).toMatchObject({ warehouse_id: destination, quantity_change: 0 });
    expect(note!.reason).toContain('missing 3');
    await api().must(id, 'complete');
    const after = await f.stockOf(transfer);
    expect(after.source).toEqual([{ available: 0, reserved: 0 }]);
    expect(after.destination).toEqual([{ available: 9, reserved: 0 }]);
  });

  for (const stage of ['approved', 'packed'] as const) {
    it(`releases the reservation when a transfer is cancelled once ${stage}`, async () => {
      const transfer = await prepare([{ quantity: 8, stock: 20 }]);
      const id = transfer.transferId;
      await reservedNow(transfer);
      if (stage === 'packed') {
        await api().must(id, 'start-picking');
        await api().must(id, 'pack');
      }
      expect((await f.stockOf(transfer)).source).toEqual([{ available: 12, reserved: 8 }]);
      const cancelled = await api().must(id, 'cancel', { reason: 'customer withdrew' });
      expect(cancelled.reservationStatus).toBe('released');
      await booked(id, 'release', 1);
      expect(await f.stockOf(transfer)).toEqual({
        source: [{ available: 20, reserved: 0 }],
        destination: [{ available: 0, reserved: 0 }],
      });
    });
  }

  it('releases a reservation still on its way when the transfer is cancelled right after approval', async () => {
    const transfer = await prepare([{ quantity: 5, stock: 5 }]);
    await api().must(transfer.transferId, 'approve');
    const cancelled = await api().must(transfer.transferId, 'cancel', { reason: 'too quick' });
    expect(cancelled.status).toBe('cancelled');
    await booked(transfer.transferId, 'release', 1);
    expect((await f.stockOf(transfer)).source).toEqual([{ available: 5, reserved: 0 }]);
    // The late answer changed nothing on the transfer.
    expect((await api().get(transfer.transferId)).body).toMatchObject({
      status: 'cancelled',
      reservationStatus: 'released',
      version: cancelled.version,
    });
  });

  it('ends rejected with the reason when the source has too little stock, reserving nothing', async () => {
    const transfer = await prepare([
      { quantity: 5, stock: 50 },
      { quantity: 7, stock: 3 },
    ]);
    await api().must(transfer.transferId, 'approve');
    const rejected = await api().until(transfer.transferId, (t) => t.status === 'rejected', 'rejection');
    expect(rejected.reservationStatus).toBe('failed');
    expect(rejected.rejectionReason).toContain('INSUFFICIENT_STOCK');
    expect(rejected.rejectionReason).toContain(
      `line-2 (${transfer.lines[1]!.productId}) requested 7, available 3`,
    );
    expect(rejected.history.at(-1)).toMatchObject({
      from: 'approved',
      to: 'rejected',
      actor: 'system:inventory',
    });
    expect(await f.stockOf(transfer)).toEqual({
      source: [
        { available: 50, reserved: 0 },
        { available: 3, reserved: 0 },
      ],
      destination: [
        { available: 0, reserved: 0 },
        { available: 0, reserved: 0 },
      ],
    });
    expect(await f.inventory.ledger(transfer.transferId)).toEqual([]);
    const refused = await api().act(transfer.transferId, 'start-picking');
    expect(refused.status).toBe(409);
    expect(refused.body.details.currentStatus).toBe('rejected');
  });
});
