import type { InventoryRecord, Movement, MovementType } from '@inv/contracts';
import { recordRef, type StockRecord } from '../domain/record.js';
import { isLowStock, isOutOfStock } from '../domain/stock.js';
import type { MovementRow } from '../infra/db/entities.js';

/** A record as the REST contract shows it. */
export function recordDto(record: StockRecord): InventoryRecord {
  return {
    ...recordRef(record),
    quantityAvailable: record.levels.available,
    quantityReserved: record.levels.reserved,
    minimumStock: record.levels.minimumStock,
    location: { ...record.location },
    version: record.version,
    isLowStock: isLowStock(record.levels),
    isOutOfStock: isOutOfStock(record.levels),
    updatedAt: record.updatedAt.toISOString(),
  };
}

export function movementDto(row: MovementRow): Movement {
  return {
    movementId: String(row.movementId),
    inventoryId: row.inventoryId,
    movementType: row.movementType as MovementType,
    quantityChange: row.quantityChange,
    reservedChange: row.reservedChange,
    availableBefore: row.availableBefore,
    availableAfter: row.availableAfter,
    reservedBefore: row.reservedBefore,
    reservedAfter: row.reservedAfter,
    reason: row.reason,
    source: row.source,
    actor: row.actor,
    correlationId: row.correlationId,
    transferId: row.transferId,
    batchId: row.batchId,
    reservationId: row.reservationId ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
