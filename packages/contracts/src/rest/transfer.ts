import { z } from 'zod';
import { Quantity, Timestamp, Version } from '../events/common.js';
import { ReservationStatus, TransferLineSnapshot, TransferStatus } from '../events/transfer.js';
import { Id } from '../ids.js';
import { ExpectedVersion, PageQuery, pageOf, Text } from './common.js';

export const TRANSFER_LIMITS = { maxLines: 100 } as const;

export const CreateTransferRequest = z
  .strictObject({
    sourceWarehouseId: Id,
    destinationWarehouseId: Id,
    lines: z
      .array(
        z.strictObject({
          productId: Id,
          variantId: Id.nullable().optional(),
          uomId: Id.nullable().optional(),
          quantity: z.int().min(1).max(1_000_000_000),
        }),
      )
      .min(1)
      .max(TRANSFER_LIMITS.maxLines),
    note: Text(500).nullable().optional(),
  })
  .refine((b) => b.sourceWarehouseId !== b.destinationWarehouseId, {
    path: ['destinationWarehouseId'],
    error: 'must differ from sourceWarehouseId',
  });
export type CreateTransferRequest = z.infer<typeof CreateTransferRequest>;

/** Body of approve, start-picking, pack, ship and complete. */
export const TransitionRequest = z.strictObject({
  reason: Text(500).nullable().optional(),
  expectedVersion: ExpectedVersion,
});
/** Body of reject and cancel: a reason is required. */
export const ReasonedTransitionRequest = z.strictObject({
  reason: Text(500).min(1),
  expectedVersion: ExpectedVersion,
});
export const ReceiveTransferRequest = z.strictObject({
  lines: z
    .array(z.strictObject({ lineId: Id, receivedQuantity: Quantity.max(1_000_000_000) }))
    .min(1)
    .max(TRANSFER_LIMITS.maxLines),
  reason: Text(500).nullable().optional(),
  expectedVersion: ExpectedVersion,
});
export type ReceiveTransferRequest = z.infer<typeof ReceiveTransferRequest>;

export const TransferTransitionRecord = z.object({
  from: TransferStatus.nullable(),
  to: TransferStatus,
  actor: z.string(),
  reason: z.string().nullable(),
  at: Timestamp,
});

export const Transfer = z.object({
  transferId: Id,
  sourceWarehouseId: Id,
  destinationWarehouseId: Id,
  status: TransferStatus,
  reservationStatus: ReservationStatus,
  version: Version,
  lines: z.array(TransferLineSnapshot),
  note: z.string().nullable(),
  rejectionReason: z.string().nullable(),
  hasDiscrepancy: z.boolean(),
  history: z.array(TransferTransitionRecord),
  createdBy: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Transfer = z.infer<typeof Transfer>;

export const TransferListQuery = PageQuery.extend({
  warehouseId: Id.optional(),
  status: TransferStatus.optional(),
});
export const TransferPage = pageOf(Transfer);

/** The REST transition endpoints, `POST /api/transfers/:id/{action}`, and the status each leads to. */
export const TRANSFER_ACTIONS = {
  approve: 'approved',
  reject: 'rejected',
  'start-picking': 'picking_started',
  pack: 'packed',
  ship: 'shipped',
  receive: 'received',
  complete: 'completed',
  cancel: 'cancelled',
} as const satisfies Record<string, z.infer<typeof TransferStatus>>;
export type TransferAction = keyof typeof TRANSFER_ACTIONS;
