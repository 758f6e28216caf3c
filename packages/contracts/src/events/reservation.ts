import { z } from 'zod';
import { Id } from '../ids.js';
import { Quantity, StockKey, Timestamp } from './common.js';

/**
 * Order reservations (carts, orders) hold stock of one or more records until committed, released or expired.
 * Their events are published per line on the stock subject of the line's record, so every product, warehouse,
 * variant, UOM and product-warehouse channel carries the reservations of its records.
 */
const ReservationLineEvent = StockKey.extend({
  inventoryId: Id,
  reservationId: Id,
  reference: z.string(),
  lineId: Id,
  /** The line's quantity as reserved. */
  quantity: Quantity,
  expiresAt: Timestamp,
  timestamp: Timestamp,
});

export const InventoryReservationCreatedV1 = ReservationLineEvent;

/** The goods left: `committedQuantity` went out, `releasedQuantity` (the rest of a partial commit) back to available. */
export const InventoryReservationCommittedV1 = ReservationLineEvent.extend({
  committedQuantity: Quantity,
  releasedQuantity: Quantity,
});

/** Why held stock went back to available: released by a caller, expired, or the rest of a partial commit. */
export const ReservationReleaseReason = z.enum(['released', 'expired', 'partial_commit']);
export type ReservationReleaseReason = z.infer<typeof ReservationReleaseReason>;

export const InventoryReservationReleasedV1 = ReservationLineEvent.extend({
  reason: ReservationReleaseReason,
  releasedQuantity: Quantity,
  /** The caller's words when released by hand. */
  note: z.string().nullable(),
});

export const InventoryReservationExtendedV1 = ReservationLineEvent.extend({
  previousExpiresAt: Timestamp,
});
