import { z } from 'zod';
import { Id } from '../ids.js';
import { Location, MovementType, Quantity, SignedQuantity, StockKey, Timestamp, Version } from './common.js';

const RecordRef = StockKey.extend({ inventoryId: Id });

/** Version 1 is the original contract's flat shape; kept so old events in a stream still decode. */
export const InventoryUpdatedV1 = z.object({
  inventoryId: Id,
  productId: Id,
  warehouseId: Id,
  variantId: Id.nullish(),
  uomId: Id.nullish(),
  quantityAvailable: SignedQuantity,
  quantityReserved: Quantity,
  version: Version,
  previousQuantity: SignedQuantity,
  changeAmount: SignedQuantity,
  movementType: z.string(),
  timestamp: Timestamp,
});

export const InventoryUpdatedV2 = RecordRef.extend({
  quantityAvailable: SignedQuantity,
  quantityReserved: Quantity,
  minimumStock: Quantity.nullable(),
  version: Version,
  previousQuantity: SignedQuantity,
  changeAmount: SignedQuantity,
  previousReserved: Quantity,
  reservedChange: SignedQuantity,
  movementType: MovementType,
  movementId: z.string().nullable(),
  transferId: Id.nullable(),
  reason: z.string().nullable(),
  source: z.string().nullable(),
  location: Location.nullable(),
  timestamp: Timestamp,
});

export function upcastInventoryUpdatedV1(
  v1: z.infer<typeof InventoryUpdatedV1>,
): z.input<typeof InventoryUpdatedV2> {
  const movementType = MovementType.safeParse(v1.movementType);
  return {
    ...v1,
    variantId: v1.variantId ?? null,
    uomId: v1.uomId ?? null,
    minimumStock: null,
    previousReserved: v1.quantityReserved,
    reservedChange: 0,
    movementType: movementType.success ? movementType.data : 'adjustment',
    movementId: null,
    transferId: null,
    reason: null,
    source: null,
    location: null,
  };
}

export const InventoryLowStockV1 = RecordRef.extend({
  quantityAvailable: SignedQuantity,
  quantityReserved: Quantity,
  minimumStock: Quantity,
  deficit: Quantity,
  version: Version,
  timestamp: Timestamp,
});

export const InventoryOutOfStockV1 = RecordRef.extend({
  quantityAvailable: SignedQuantity,
  quantityReserved: Quantity,
  minimumStock: Quantity,
  version: Version,
  timestamp: Timestamp,
});

export const BatchExpiringSoonV1 = RecordRef.extend({
  batchId: Id,
  batchNumber: z.string(),
  quantity: Quantity,
  expiresAt: Timestamp,
  daysUntilExpiry: z.int(),
  thresholdDays: z.int().min(0),
  timestamp: Timestamp,
});

const ReservedLine = z.object({
  lineId: Id,
  inventoryId: Id,
  productId: Id,
  variantId: Id.nullable(),
  uomId: Id.nullable(),
  quantity: Quantity,
});

/** Inventory's answer to `transfer.approved`: every line is reserved at the source. */
export const InventoryReservedV1 = z.object({
  transferId: Id,
  warehouseId: Id,
  lines: z.array(ReservedLine),
  timestamp: Timestamp,
});

const Shortage = z.object({
  lineId: Id,
  productId: Id,
  variantId: Id.nullable(),
  uomId: Id.nullable(),
  requested: Quantity,
  available: SignedQuantity,
});

/** Inventory's answer to `transfer.approved` when the source cannot cover every line; nothing is reserved. */
export const InventoryReservationFailedV1 = z.object({
  transferId: Id,
  warehouseId: Id,
  reason: z.string(),
  shortages: z.array(Shortage),
  timestamp: Timestamp,
});
