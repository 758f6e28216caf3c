/**
 * The stock rules of src/domain/stock.ts, spelled in SQL for the one-statement movement (movements-sql.ts):
 * the database applies them to the levels it holds at that moment. Each function mirrors the domain function of
 * the same name; test/stock-rules-sql.test.ts checks them against the domain on generated levels, and the
 * movement tests decode every event the statement writes and compare it with `stockEventsOf`.
 */

/** `isLowStock`: a minimum is set and available stock is below it. */
export function isLowStockSql(available: string, minimumStock: string): string {
  return `(${minimumStock} > 0 and ${available} < ${minimumStock})`;
}

/** `isOutOfStock`. */
export function isOutOfStockSql(available: string): string {
  return `(${available} <= 0)`;
}

/** `deficitOf`. */
export function deficitSql(available: string, minimumStock: string): string {
  return `greatest(0, ${minimumStock} - ${available})`;
}

/** `crossingsOf(...).lowStock`. */
export function crossesLowStockSql(
  before: { available: string; minimumStock: string },
  after: { available: string; minimumStock: string },
): string {
  return `(not ${isLowStockSql(before.available, before.minimumStock)} and ${isLowStockSql(after.available, after.minimumStock)})`;
}

/** `crossingsOf(...).outOfStock`. */
export function crossesOutOfStockSql(before: { available: string }, after: { available: string }): string {
  return `(not ${isOutOfStockSql(before.available)} and ${isOutOfStockSql(after.available)})`;
}

/**
 * `applyDelta`'s guard: a change that takes available stock may not leave it below zero unless it allows it,
 * and reserved stock never goes below zero.
 */
export function withinStockSql(change: {
  quantityChange: string;
  allowNegative: string;
  availableAfter: string;
  reservedAfter: string;
}): string {
  return `not ((${change.quantityChange} < 0 and ${change.availableAfter} < 0 and not ${change.allowNegative})
                or ${change.reservedAfter} < 0)`;
}
