import { EVENT_ID_PATTERN } from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import { catchUpEvent, deterministicEventId, reconcileTransfer, type TransferState } from './transfers.js';

const transfer = (status: TransferState['status'], extra: Partial<TransferState> = {}): TransferState => ({
  transferId: 't1',
  sourceWarehouseId: 'a',
  destinationWarehouseId: 'b',
  status,
  reservationStatus: 'reserved',
  version: 5,
  updatedAt: new Date('2026-12-01T08:00:00Z'),
  lines: [
    {
      lineId: 'l1',
      productId: 'p1',
      variantId: null,
      uomId: null,
      quantity: 10,
      shippedQuantity: null,
      receivedQuantity: null,
      discrepancy: null,
    },
  ],
  ...extra,
});

describe('reconcileTransfer', () => {
  it('finds nothing when inventory agrees with the transfer', () => {
    const side = {
      saga: { state: 'reserved', transferVersion: 3 },
      reservations: { reserved: 10 },
      reservedHeld: 10,
    };
    expect(reconcileTransfer(transfer('packed'), side)).toEqual([]);
    const released = {
      saga: { state: 'released', transferVersion: 5 },
      reservations: { released: 10 },
      reservedHeld: 0,
    };
    expect(reconcileTransfer(transfer('cancelled'), released)).toEqual([]);
  });

  it('reports a cancelled transfer still holding its reservation and repairs it with the cancellation', () => {
    const side = {
      saga: { state: 'reserved', transferVersion: 3 },
      reservations: { reserved: 10 },
      reservedHeld: 10,
    };
    const differences = reconcileTransfer(transfer('cancelled'), side);
    expect(differences.map((d) => d.problem)).toEqual([
      'inventory saga is reserved while the transfer is cancelled',
      'holds 10 reserved unit(s) although the transfer is cancelled',
    ]);
    expect(differences[0]?.repair).toMatchObject({ type: 'transfer.cancelled', aggregate: { version: 5 } });
  });

  it('reports but does not repair when inventory saw the latest version and still disagrees', () => {
    const side = {
      saga: { state: 'reserved', transferVersion: 5 },
      reservations: { reserved: 10 },
      reservedHeld: 7,
    };
    const [difference] = reconcileTransfer(transfer('approved'), side);
    expect(difference).toMatchObject({
      problem: 'ledger holds 7 reserved unit(s), reservations say 10',
      repair: null,
    });
  });

  it('derives the same valid event id from the same transfer version', () => {
    const at = new Date('2026-12-01T08:00:00Z');
    const id = deterministicEventId('reconcile:t1:5', at);
    expect(id).toMatch(EVENT_ID_PATTERN);
    expect(deterministicEventId('reconcile:t1:5', at)).toBe(id);
    expect(deterministicEventId('reconcile:t1:6', at)).not.toBe(id);
    expect(catchUpEvent(transfer('shipped'))?.id).toBe(catchUpEvent(transfer('shipped'))?.id);
    expect(catchUpEvent(transfer('requested'))).toBeNull();
  });
});
