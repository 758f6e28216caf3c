import type { StockKey } from '@inv/contracts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { recordRef, type StockRecord } from '../../domain/record.js';
import { InventoryRecordRow } from './entities.js';

export function recordOfRow(row: InventoryRecordRow): StockRecord {
  return {
    ...recordRef(row),
    levels: {
      available: row.quantityAvailable,
      reserved: row.quantityReserved,
      minimumStock: row.minimumStock,
    },
    location: { rack: row.rack, bin: row.bin, zone: row.zone, aisle: row.aisle },
    version: row.version,
    updatedAt: row.updatedAt,
  };
}

function keyFilter(key: StockKey) {
  return {
    productId: key.productId,
    warehouseId: key.warehouseId,
    variantId: key.variantId ?? null,
    uomId: key.uomId ?? null,
  };
}

/**
 * Reads bypass the identity map: records are turned into plain values at once and written by one SQL statement
 * (movements-sql.ts), so a second read in the same transaction must see the database, not a cached entity.
 */
const FRESH = { disableIdentityMap: true } as const;

export async function findRecordByKey(em: EntityManager, key: StockKey): Promise<StockRecord | null> {
  const row = await em.findOne(InventoryRecordRow, keyFilter(key), FRESH);
  return row ? recordOfRow(row) : null;
}

export async function findRecordById(em: EntityManager, inventoryId: string): Promise<StockRecord | null> {
  const row = await em.findOne(InventoryRecordRow, { inventoryId }, FRESH);
  return row ? recordOfRow(row) : null;
}

export async function findRecordsByIds(em: EntityManager, ids: string[]): Promise<StockRecord[]> {
  if (ids.length === 0) return [];
  const rows = await em.find(InventoryRecordRow, { inventoryId: { $in: ids } }, FRESH);
  return rows.map(recordOfRow);
}

export async function findRecordsByKeys(em: EntityManager, keys: StockKey[]): Promise<StockRecord[]> {
  if (keys.length === 0) return [];
  const rows = await em.find(InventoryRecordRow, { $or: keys.map(keyFilter) }, FRESH);
  return rows.map(recordOfRow);
}
