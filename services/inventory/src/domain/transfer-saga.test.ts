import { describe, expect, it } from 'vitest';
import {
  decideSagaSteps,
  discrepancyReason,
  planReceipt,
  planShipment,
  type SagaRecord,
  shortagesOf,
} from './transfer-saga.js';

const saga = (state: SagaRecord['state'], transferVersion = 2): SagaRecord => ({
  transferId: 't-1',
  state,
  transferVersion,
});

describe('transfer saga decisions', () => {
  it('reserves on approval once, and again only after a failed attempt', () => {
    expect(decideSagaSteps('transfer.approved', 2, null)).toEqual({ apply: ['reserve'] });
    expect(decideSagaSteps('transfer.approved', 4, saga('failed'))).toEqual({ apply: ['reserve'] });
    expect(decideSagaSteps('transfer.approved', 4, saga('reserved'))).toHaveProperty('ignore');
  });

  it('ignores an event not newer than the last one applied', () => {
    expect(decideSagaSteps('transfer.shipped', 2, saga('reserved', 2))).toHaveProperty('ignore');
    expect(decideSagaSteps('transfer.shipped', 3, saga('reserved', 2))).toEqual({ apply: ['ship'] });
  });

  it('ships before receiving when the receipt comes first', () => {
    expect(decideSagaSteps('transfer.received', 5, saga('reserved'))).toEqual({ apply: ['ship', 'receive'] });
    expect(decideSagaSteps('transfer.received', 5, saga('shipped'))).toEqual({ apply: ['receive'] });
    expect(decideSagaSteps('transfer.received', 6, saga('received', 5))).toHaveProperty('ignore');
    expect(decideSagaSteps('transfer.received', 5, null)).toHaveProperty('ignore');
  });

  it('releases a reservation on cancel or reject, and closes a transfer never reserved so a late approval is a no-op', () => {
    expect(decideSagaSteps('transfer.cancelled', 3, saga('reserved'))).toEqual({ apply: ['release'] });
    expect(decideSagaSteps('transfer.rejected', 3, saga('reserved'))).toEqual({ apply: ['release'] });
    expect(decideSagaSteps('transfer.cancelled', 3, null)).toEqual({ apply: ['close'] });
    expect(decideSagaSteps('transfer.rejected', 3, saga('failed'))).toEqual({ apply: ['close'] });
    expect(decideSagaSteps('transfer.approved', 2, saga('closed', 3))).toHaveProperty('ignore');
    expect(decideSagaSteps('transfer.approved', 4, saga('closed', 3))).toHaveProperty('ignore');
    expect(decideSagaSteps('transfer.cancelled', 7, saga('shipped', 5))).toHaveProperty('ignore');
  });

  it('leaves the other transfer events alone', () => {
    for (const type of ['transfer.requested', 'transfer.packed', 'transfer.completed'] as const) {
      expect(decideSagaSteps(type, 9, saga('reserved'))).toHaveProperty('ignore');
    }
  });

  it('finds shortages summing the demand of lines on the same stock', () => {
    const line = (lineId: string, productId: string, quantity: number) => ({
      lineId,
      productId,
      variantId: null,
      uomId: null,
      quantity,
      shippedQuantity: null,
      receivedQuantity: null,
      discrepancy: null,
    });
    const transfer = {
      sourceWarehouseId: 'w',
      lines: [line('l1', 'a', 3), line('l2', 'a', 3), line('l3', 'b', 1)],
    };
    const stock: Record<string, number> = { a: 5, b: 1 };
    expect(
      shortagesOf(transfer, (key) => stock[key.productId] ?? 0).map((s) => [s.lineId, s.available]),
    ).toEqual([
      ['l1', 5],
      ['l2', 5],
    ]);
    stock.a = 6;
    expect(shortagesOf(transfer, (key) => stock[key.productId] ?? 0)).toEqual([]);
  });

  it('plans shipments and receipts with their differences', () => {
    expect(planShipment(5, null)).toEqual({ shipped: 5, fromReserved: 5, beyondReservation: 0, released: 0 });
    expect(planShipment(5, 3)).toEqual({ shipped: 3, fromReserved: 3, beyondReservation: 0, released: 2 });
    expect(planShipment(5, 7)).toEqual({ shipped: 7, fromReserved: 5, beyondReservation: 2, released: 0 });
    expect(planReceipt(5, null)).toEqual({ received: 5, difference: 0 });
    const short = planReceipt(10, 8);
    expect(discrepancyReason('t-1', 10, short)).toBe('transfer t-1: shipped 10, received 8, missing 2');
  });
});
