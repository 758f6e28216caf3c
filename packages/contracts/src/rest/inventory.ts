import { z } from 'zod';
import { Location, MovementType, Quantity, SignedQuantity, Timestamp, Version } from '../events/common.js';
import { Id } from '../ids.js';
import { ExpectedVersion, isStorableDate, PageInfo, PageQuery, pageOf, Text } from './common.js';

/** Movement types a client may send to `POST /api/inventory/adjust`; the others come from transfers. */
export const AdjustMovementType = z.enum(['in', 'out', 'adjustment']);
export type AdjustMovementType = z.infer<typeof AdjustMovementType>;

const LocationField = Text(32).nullable().optional();

/**
 * `in` adds `quantity`, `out` removes it, `adjustment` sets the available quantity to `quantity` (a stock count).
 */
export const AdjustRequest = z
  .strictObject({
    warehouseId: Id,
    productId: Id,
    variantId: Id.nullable().optional(),
    uomId: Id.nullable().optional(),
    quantity: z
      .int({ error: 'must be an integer' })
      .min(0, { error: 'must not be negative' })
      .max(1_000_000_000),
    movementType: AdjustMovementType,
    source: Text(64).nullable().optional(),
    reason: Text(500).nullable().optional(),
    rack: LocationField,
    bin: LocationField,
    zone: LocationField,
    aisle: LocationField,
    minimumStock: Quantity.max(1_000_000_000).optional(),
    /** Allows an `out` to take available stock below zero (a backorder). */
    allowNegative: z.boolean().optional(),
    expectedVersion: ExpectedVersion,
  })
  .refine((body) => body.movementType === 'adjustment' || body.quantity > 0, {
    path: ['quantity'],
    error: 'must be greater than zero for in and out',
  });
export type AdjustRequest = z.infer<typeof AdjustRequest>;

export const InventoryRecord = z.object({
  inventoryId: Id,
  productId: Id,
  warehouseId: Id,
  variantId: Id.nullable(),
  uomId: Id.nullable(),
  quantityAvailable: SignedQuantity,
  quantityReserved: Quantity,
  minimumStock: Quantity,
  location: Location,
  version: Version,
  isLowStock: z.boolean(),
  isOutOfStock: z.boolean(),
  updatedAt: Timestamp,
});
export type InventoryRecord = z.infer<typeof InventoryRecord>;

export const Movement = z.object({
  movementId: z.string(),
  inventoryId: Id,
  movementType: MovementType,
  quantityChange: SignedQuantity,
  reservedChange: SignedQuantity,
  availableBefore: SignedQuantity,
  availableAfter: SignedQuantity,
  reservedBefore: Quantity,
  reservedAfter: Quantity,
  reason: z.string().nullable(),
  source: z.string().nullable(),
  actor: z.string(),
  correlationId: z.string().nullable(),
  transferId: Id.nullable(),
  batchId: Id.nullable(),
  /** The order reservation of a `reservation`, `reservation_release` or `reservation_commit` (null for transfers'). */
  reservationId: Id.nullable(),
  createdAt: Timestamp,
});
export type Movement = z.infer<typeof Movement>;

export const AdjustResponse = z.object({ inventory: InventoryRecord, movement: Movement });
export type AdjustResponse = z.infer<typeof AdjustResponse>;

/** Records of one dimension in one warehouse: the `?groupBy=warehouse` summary. */
export const WarehouseStockSummary = z.object({
  warehouseId: Id,
  records: z.int(),
  totalAvailable: SignedQuantity,
  totalReserved: Quantity,
  lowStockRecords: z.int(),
});
export type WarehouseStockSummary = z.infer<typeof WarehouseStockSummary>;

/**
 * Stock of one dimension (product, variant or UOM) across warehouses: the original contract's shape, with
 * `warehouses` one keyset page of records (by warehouse, then id) and the totals computed over every record
 * the caller sees; `total` counts them. `byWarehouse` answers `?groupBy=warehouse`.
 */
const stockAcross = <K extends string>(key: K) =>
  z.object({
    [key]: Id,
    warehouses: z.array(InventoryRecord),
    totalAvailable: SignedQuantity,
    totalReserved: Quantity,
    isLowStock: z.boolean(),
    total: z.int(),
    page: PageInfo,
    /** When the totals were computed: totals over a large set are kept a moment (TOTALS_CACHE_MS). */
    totalsAsOf: Timestamp,
    byWarehouse: z.array(WarehouseStockSummary).optional(),
  } as { [P in K]: typeof Id } & {
    warehouses: z.ZodArray<typeof InventoryRecord>;
    totalAvailable: typeof SignedQuantity;
    totalReserved: typeof Quantity;
    isLowStock: z.ZodBoolean;
    total: z.ZodInt;
    page: typeof PageInfo;
    totalsAsOf: typeof Timestamp;
    byWarehouse: z.ZodOptional<z.ZodArray<typeof WarehouseStockSummary>>;
  });
export const VariantStockResponse = stockAcross('variantId');
export const UomStockResponse = stockAcross('uomId');
export const ProductStockResponse = stockAcross('productId');
export type VariantStockResponse = z.infer<typeof VariantStockResponse>;

/** `GET /api/inventory/{product,variant,uom}/:id`: a page of records, optionally a per-warehouse summary. */
export const StockAcrossQuery = PageQuery.extend({ groupBy: z.enum(['warehouse']).optional() });

export const LowStockItem = z.object({
  inventoryId: Id,
  productId: Id,
  warehouseId: Id,
  variantId: Id.nullable(),
  uomId: Id.nullable(),
  quantityAvailable: SignedQuantity,
  minimumStock: Quantity,
  deficit: Quantity,
  version: Version,
});
export const LowStockResponse = z.object({
  items: z.array(LowStockItem),
  total: z.int(),
  timestamp: Timestamp,
  /** When `total` was counted: a count over many records is kept a moment (TOTALS_CACHE_MS), the page is current. */
  totalsAsOf: Timestamp,
  page: PageInfo,
});
export type LowStockResponse = z.infer<typeof LowStockResponse>;

/** `GET /api/inventory/low-stock`: `total` counts every low record; `items` is one keyset page of them. */
export const LowStockQuery = PageQuery.extend({ warehouseId: Id.optional() });

export const InventoryListQuery = PageQuery.extend({ warehouseId: Id.optional(), productId: Id.optional() });
export const InventoryPage = pageOf(InventoryRecord);
export const MovementPage = pageOf(Movement);

/**
 * Location takes the shape GET returns (`location: {rack, bin, zone, aisle}`, documented) or, as before, flat
 * fields; a flat field wins over the same field in `location`.
 */
export const UpdateInventorySettingsRequest = z.strictObject({
  minimumStock: Quantity.max(1_000_000_000).optional(),
  location: z
    .strictObject({ rack: LocationField, bin: LocationField, zone: LocationField, aisle: LocationField })
    .optional(),
  rack: LocationField,
  bin: LocationField,
  zone: LocationField,
  aisle: LocationField,
  expectedVersion: ExpectedVersion,
});
export type UpdateInventorySettingsRequest = z.infer<typeof UpdateInventorySettingsRequest>;

/** The settings with a nested `location` folded into the flat fields the write path reads. */
export function flattenSettingsLocation(
  request: UpdateInventorySettingsRequest,
): Omit<UpdateInventorySettingsRequest, 'location'> {
  const { location, ...flat } = request;
  if (!location) return flat;
  const given = Object.fromEntries(Object.entries(flat).filter(([, value]) => value !== undefined));
  return { ...location, ...given };
}

export const CreateBatchRequest = z.strictObject({
  batchNumber: Text(64).min(1),
  quantity: z.int().min(1).max(1_000_000_000),
  expiresAt: z
    .union([z.iso.datetime({ offset: true }), z.iso.date()])
    .refine((value) => isStorableDate(new Date(/T/.test(value) ? value : `${value}T00:00:00Z`)), {
      error: 'must be between the years 1 and 9999 (UTC)',
    }),
  reason: Text(500).nullable().optional(),
});
export type CreateBatchRequest = z.infer<typeof CreateBatchRequest>;

export const Batch = z.object({
  batchId: Id,
  inventoryId: Id,
  batchNumber: z.string(),
  quantity: Quantity,
  /** What is left: stock leaving the record is taken from its batches first-expiring-first-out. */
  remaining: Quantity,
  expiresAt: Timestamp,
  createdAt: Timestamp,
});
export type Batch = z.infer<typeof Batch>;
export const CreateBatchResponse = z.object({ batch: Batch, inventory: InventoryRecord, movement: Movement });
/** A record's batches, soonest expiry first (used up ones too, with `remaining` 0). */
export const BatchPage = pageOf(Batch);

export const ExpiringBatchesQuery = PageQuery.extend({
  withinDays: z.coerce.number().int().min(0).max(3650).default(30),
  warehouseId: Id.optional(),
});
export const ExpiringBatch = Batch.extend({
  productId: Id,
  warehouseId: Id,
  variantId: Id.nullable(),
  uomId: Id.nullable(),
  daysUntilExpiry: z.int(),
});
export const ExpiringBatchesResponse = z.object({
  items: z.array(ExpiringBatch),
  total: z.int(),
  withinDays: z.int(),
  timestamp: Timestamp,
  /**
   * When `total` was counted (its window then ran from that moment): a count over many batches is kept a moment
   * (TOTALS_CACHE_MS), the page is current.
   */
  totalsAsOf: Timestamp,
  page: PageInfo,
});
