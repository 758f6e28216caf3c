import { type AdjustRequest, DomainError, type MovementType, type StockKey } from '@inv/contracts';

/** The quantities of one inventory record that the rules look at. */
export interface StockLevels {
  available: number;
  reserved: number;
  minimumStock: number;
}

/** A record that does not exist yet behaves like an empty one without a minimum. */
export const EMPTY_LEVELS: StockLevels = Object.freeze({ available: 0, reserved: 0, minimumStock: 0 });

/**
 * One change to a record as the ledger books it: how available and reserved move, and optionally a new
 * minimum stock. Every version of a record is exactly one such change.
 */
export interface StockDelta {
  movementType: MovementType;
  quantityChange: number;
  reservedChange: number;
  /** The minimum stock from this change on; unchanged when absent. */
  minimumStock?: number;
  /** Lets available stock go below zero (a backorder, or goods that physically left). */
  allowNegative?: boolean;
}

export interface Crossings {
  /** From not low to low: the record just fell below its minimum. */
  lowStock: boolean;
  /** From positive to zero or less. */
  outOfStock: boolean;
}

export interface AppliedDelta {
  movementType: MovementType;
  quantityChange: number;
  reservedChange: number;
  before: StockLevels;
  after: StockLevels;
  crossings: Crossings;
}

/** Units physically in the warehouse: available and reserved alike. */
export function onHand(levels: StockLevels): number {
  return levels.available + levels.reserved;
}

export function isLowStock(levels: StockLevels): boolean {
  return levels.minimumStock > 0 && levels.available < levels.minimumStock;
}

export function isOutOfStock(levels: StockLevels): boolean {
  return levels.available <= 0;
}

/** How many units are missing to reach the minimum stock. */
export function deficitOf(levels: StockLevels): number {
  return Math.max(0, levels.minimumStock - levels.available);
}

/** Alerts fire when a threshold is crossed, not on every change below it. */
export function crossingsOf(before: StockLevels, after: StockLevels): Crossings {
  return {
    lowStock: !isLowStock(before) && isLowStock(after),
    outOfStock: !isOutOfStock(before) && isOutOfStock(after),
  };
}

export function insufficientStock(
  available: number,
  requested: number,
  details: Record<string, unknown> = {},
): DomainError {
  return new DomainError(
    'INSUFFICIENT_STOCK',
    `Insufficient stock: ${requested} requested, ${available} available.`,
    { available, requested, ...details },
    'quantity',
  );
}

/**
 * Applies a change to the levels. Available stock never goes below zero unless the change allows it, and
 * reserved stock never goes below zero at all.
 */
export function applyDelta(
  levels: StockLevels,
  delta: StockDelta,
  details: Record<string, unknown> = {},
): AppliedDelta {
  const after: StockLevels = {
    available: levels.available + delta.quantityChange,
    reserved: levels.reserved + delta.reservedChange,
    minimumStock: delta.minimumStock ?? levels.minimumStock,
  };
  const takesAvailable = delta.quantityChange < 0;
  if (takesAvailable && after.available < 0 && !delta.allowNegative) {
    throw insufficientStock(levels.available, -delta.quantityChange, details);
  }
  if (after.reserved < 0) {
    throw insufficientStock(levels.reserved, -delta.reservedChange, { ...details, of: 'reserved' });
  }
  return {
    movementType: delta.movementType,
    quantityChange: delta.quantityChange,
    reservedChange: delta.reservedChange,
    before: { ...levels },
    after,
    crossings: crossingsOf(levels, after),
  };
}

/** The ledger changes of each kind of movement. */
export const deltas = {
  in: (quantity: number): StockDelta => ({ movementType: 'in', quantityChange: quantity, reservedChange: 0 }),
  out: (quantity: number, allowNegative = false): StockDelta => ({
    movementType: 'out',
    quantityChange: -quantity,
    reservedChange: 0,
    allowNegative,
  }),
  /** A stock count: available becomes `counted`. */
  count: (levels: StockLevels, counted: number): StockDelta => ({
    movementType: 'adjustment',
    quantityChange: counted - levels.available,
    reservedChange: 0,
  }),
  /** A change of settings only (minimum stock, location): booked as a zero adjustment. */
  settings: (minimumStock?: number): StockDelta => ({
    movementType: 'adjustment',
    quantityChange: 0,
    reservedChange: 0,
    minimumStock,
  }),
  reserve: (quantity: number): StockDelta => ({
    movementType: 'reservation',
    quantityChange: -quantity,
    reservedChange: quantity,
  }),
  release: (quantity: number): StockDelta => ({
    movementType: 'release',
    quantityChange: quantity,
    reservedChange: -quantity,
  }),
  /**
   * Goods leave for a transfer: the reservation is consumed; anything shipped beyond it comes out of available
   * stock even if that goes negative, because the goods are physically gone.
   */
  shipOut: (fromReserved: number, beyondReservation: number): StockDelta => ({
    movementType: 'transfer_out',
    quantityChange: -beyondReservation,
    reservedChange: -fromReserved,
    allowNegative: true,
  }),
  receiveIn: (quantity: number): StockDelta => ({
    movementType: 'transfer_in',
    quantityChange: quantity,
    reservedChange: 0,
  }),
  /** A note in the ledger that a transfer arrived with another quantity than was shipped. */
  discrepancy: (): StockDelta => ({
    movementType: 'transfer_discrepancy',
    quantityChange: 0,
    reservedChange: 0,
  }),
};

/**
 * A change described without reading the record first, so the database can apply it atomically: a delta, or
 * (with `countedAvailable`) a stock count whose delta is `countedAvailable - available` at the moment it applies.
 */
export interface StockChange extends StockDelta {
  countedAvailable?: number;
}

/** The delta a change makes to the given levels: a count becomes the difference to what is available. */
export function resolveChange(levels: StockLevels, change: StockChange): StockDelta {
  const { countedAvailable, ...delta } = change;
  if (countedAvailable === undefined) return delta;
  return { ...delta, quantityChange: countedAvailable - levels.available };
}

/** The change a `POST /api/inventory/adjust` body asks for, whatever the record holds when it applies. */
export function changeForAdjust(
  request: Pick<AdjustRequest, 'movementType' | 'quantity' | 'allowNegative' | 'minimumStock'>,
): StockChange {
  const base: StockChange =
    request.movementType === 'in'
      ? deltas.in(request.quantity)
      : request.movementType === 'out'
        ? deltas.out(request.quantity, request.allowNegative ?? false)
        : { ...deltas.count(EMPTY_LEVELS, 0), countedAvailable: request.quantity };
  return request.minimumStock === undefined ? base : { ...base, minimumStock: request.minimumStock };
}

/** The change a `POST /api/inventory/adjust` body asks for. */
export function deltaForAdjust(
  levels: StockLevels,
  request: Pick<AdjustRequest, 'movementType' | 'quantity' | 'allowNegative' | 'minimumStock'>,
): StockDelta {
  return resolveChange(levels, changeForAdjust(request));
}

/**
 * One string per stock key, for maps keyed by record before its id is known: unambiguous whatever the ids hold,
 * and never equal to an inventory id (it starts with `[`), so both may key one map.
 */
export function stockKeyString(key: StockKey): string {
  return JSON.stringify([key.productId, key.warehouseId, key.variantId ?? null, key.uomId ?? null]);
}
