import { z } from 'zod';
import { Id } from '../ids.js';

export const Timestamp = z.iso.datetime({ offset: true });
export const Quantity = z.int().min(0);
export const SignedQuantity = z.int();
export const Version = z.int().min(0);

/**
 * Movement kinds of the ledger. REST `adjust` accepts `in`, `out` and `adjustment`; the rest come from transfers
 * and order reservations (`reservation` is shared; the ledger row's reservation id tells an order's apart).
 */
export const MovementType = z.enum([
  'in',
  'out',
  'adjustment',
  'reservation',
  'release',
  'transfer_out',
  'transfer_in',
  'transfer_discrepancy',
  'reservation_release',
  'reservation_commit',
]);
export type MovementType = z.infer<typeof MovementType>;

export const Location = z.object({
  rack: z.string().nullable(),
  bin: z.string().nullable(),
  zone: z.string().nullable(),
  aisle: z.string().nullable(),
});
export type Location = z.infer<typeof Location>;

/** The keys that identify an inventory record; variant and UOM are optional dimensions. */
export const StockKey = z.object({
  productId: Id,
  warehouseId: Id,
  variantId: Id.nullable(),
  uomId: Id.nullable(),
});
export type StockKey = z.infer<typeof StockKey>;
