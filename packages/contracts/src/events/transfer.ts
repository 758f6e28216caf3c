import { z } from 'zod';
import { Id } from '../ids.js';
import { Quantity, Timestamp, Version } from './common.js';

export const TransferStatus = z.enum([
  'requested',
  'approved',
  'rejected',
  'picking_started',
  'packed',
  'shipped',
  'received',
  'completed',
  'cancelled',
]);
export type TransferStatus = z.infer<typeof TransferStatus>;

export const ReservationStatus = z.enum(['none', 'pending', 'reserved', 'failed', 'released', 'consumed']);
export type ReservationStatus = z.infer<typeof ReservationStatus>;

export const TransferLineSnapshot = z.object({
  lineId: Id,
  productId: Id,
  variantId: Id.nullable(),
  uomId: Id.nullable(),
  quantity: Quantity.min(1),
  shippedQuantity: Quantity.nullable(),
  receivedQuantity: Quantity.nullable(),
  discrepancy: z.int().nullable(),
});
export type TransferLineSnapshot = z.infer<typeof TransferLineSnapshot>;

/**
 * Every transfer event carries the whole transfer after the transition (event-carried state), so a consumer
 * never has to call back to the transfer service.
 */
export const TransferEventV1 = z.object({
  transferId: Id,
  sourceWarehouseId: Id,
  destinationWarehouseId: Id,
  status: TransferStatus,
  previousStatus: TransferStatus.nullable(),
  reservationStatus: ReservationStatus,
  version: Version,
  lines: z.array(TransferLineSnapshot).min(1),
  actor: z.string(),
  reason: z.string().nullable(),
  timestamp: Timestamp,
});
export type TransferEventData = z.infer<typeof TransferEventV1>;
