import { describe, expect, it } from 'vitest';
import {
  type ClientEvent,
  isReservationEvent,
  onReservations,
  reservationStatusAfter,
} from '../src/index.js';

const line = {
  inventoryId: 'inv-1',
  productId: 'p1',
  warehouseId: 'w1',
  variantId: null,
  uomId: null,
  reservationId: 'r1',
  reference: 'order-1',
  lineId: 'l1',
  quantity: 2,
  expiresAt: '2026-12-01T10:15:00.000Z',
  timestamp: '2026-12-01T10:00:00.000Z',
};
const frame = { channel: 'product:p1', id: 'e1', cursor: 'c1', occurredAt: line.timestamp };
const released = (reason: 'released' | 'expired' | 'partial_commit'): ClientEvent => ({
  ...frame,
  type: 'inventory.reservation_released',
  data: { ...line, reason, releasedQuantity: 2, note: null },
});

describe('order reservation helpers', () => {
  it('passes on reservation events only, typed', () => {
    const seen: string[] = [];
    const handler = onReservations((event) => seen.push(`${event.type} ${event.data.reference}`));
    handler({ ...frame, type: 'inventory.reservation_created', data: line });
    handler({
      ...frame,
      type: 'inventory.out_of_stock',
      data: { ...line, quantityAvailable: 0, quantityReserved: 2, minimumStock: 0, version: 3 },
    } as ClientEvent);
    expect(seen).toEqual(['inventory.reservation_created order-1']);
    expect(isReservationEvent(released('expired'))).toBe(true);
  });

  it('tells the status a reservation is in after each event', () => {
    expect(reservationStatusAfter({ ...frame, type: 'inventory.reservation_created', data: line })).toBe(
      'active',
    );
    expect(
      reservationStatusAfter({
        ...frame,
        type: 'inventory.reservation_committed',
        data: { ...line, committedQuantity: 1, releasedQuantity: 1 },
      }),
    ).toBe('committed');
    const statuses = (['released', 'expired', 'partial_commit'] as const).map((r) =>
      reservationStatusAfter(released(r) as Parameters<typeof reservationStatusAfter>[0]),
    );
    expect(statuses).toEqual(['released', 'expired', 'committed']);
  });
});
