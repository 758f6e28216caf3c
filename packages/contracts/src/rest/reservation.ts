import { z } from 'zod';
import { Quantity, SignedQuantity, Timestamp } from '../events/common.js';
import { ReservationReleaseReason } from '../events/reservation.js';
import { Id } from '../ids.js';
import { PageQuery, pageOf, Text } from './common.js';

export const RESERVATION_LIMITS = {
  maxLines: 100,
  minExpiresInSeconds: 1,
  maxExpiresInSeconds: 30 * 24 * 3600,
  defaultExpiresInSeconds: 900,
} as const;

/** `active` holds stock; the others are final. `expired` was released by the sweeper. */
export const ReservationState = z.enum(['active', 'committed', 'released', 'expired']);
export type ReservationState = z.infer<typeof ReservationState>;

const ExpiresInSeconds = z
  .int({ error: 'must be a whole number of seconds' })
  .min(RESERVATION_LIMITS.minExpiresInSeconds, { error: 'must be at least 1 second' })
  .max(RESERVATION_LIMITS.maxExpiresInSeconds, { error: 'must be at most 30 days' });

export const CreateReservationRequest = z.strictObject({
  reference: Text(128).min(1),
  lines: z
    .array(
      z.strictObject({
        warehouseId: Id,
        productId: Id,
        variantId: Id.nullable().optional(),
        uomId: Id.nullable().optional(),
        quantity: z.int({ error: 'must be an integer' }).min(1).max(1_000_000_000),
      }),
    )
    .min(1)
    .max(RESERVATION_LIMITS.maxLines),
  expiresInSeconds: ExpiresInSeconds.default(RESERVATION_LIMITS.defaultExpiresInSeconds),
});
export type CreateReservationRequest = z.infer<typeof CreateReservationRequest>;

/** A partial commit names the quantity per line that leaves; the rest of every line is released. */
export const CommitReservationRequest = z
  .strictObject({
    lines: z
      .array(z.strictObject({ lineId: Id, quantity: Quantity.max(1_000_000_000) }))
      .min(1)
      .max(RESERVATION_LIMITS.maxLines)
      .optional(),
  })
  .default({});
export type CommitReservationRequest = z.infer<typeof CommitReservationRequest>;

export const ReleaseReservationRequest = z
  .strictObject({ reason: Text(500).nullable().optional() })
  .default({});
export type ReleaseReservationRequest = z.infer<typeof ReleaseReservationRequest>;

export const ExtendReservationRequest = z.strictObject({ expiresInSeconds: ExpiresInSeconds });
export type ExtendReservationRequest = z.infer<typeof ExtendReservationRequest>;

export const ReservationLine = z.object({
  lineId: Id,
  inventoryId: Id,
  warehouseId: Id,
  productId: Id,
  variantId: Id.nullable(),
  uomId: Id.nullable(),
  quantity: Quantity,
  /** Set once committed: what left; the rest was released. */
  committedQuantity: Quantity.nullable(),
});

export const Reservation = z.object({
  reservationId: Id,
  reference: z.string(),
  status: ReservationState,
  expiresAt: Timestamp,
  lines: z.array(ReservationLine),
  /** Why it was released (`released` by a caller, `expired`), null otherwise. */
  releaseReason: ReservationReleaseReason.nullable(),
  releaseNote: z.string().nullable(),
  createdBy: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Reservation = z.infer<typeof Reservation>;

export const ReservationListQuery = PageQuery.extend({
  reference: Text(128).min(1).optional(),
  status: ReservationState.optional(),
  warehouseId: Id.optional(),
});
export const ReservationPage = pageOf(Reservation);

/** `details` of a 409 INSUFFICIENT_STOCK from `POST /api/reservations`: each short line (lines summed per record). */
export const ReservationShortage = z.object({
  warehouseId: Id,
  productId: Id,
  variantId: Id.nullable(),
  uomId: Id.nullable(),
  requested: Quantity,
  available: SignedQuantity,
});
export type ReservationShortage = z.infer<typeof ReservationShortage>;
