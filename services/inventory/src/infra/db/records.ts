import type { StockKey } from '@inv/contracts';
import { ConcurrencyConflict } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type LedgerEntry, type RecordChangeSet, recordRef, type StockRecord } from '../../domain/record.js';
import { InventoryRecordRow, MovementRow } from './entities.js';

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

function rowOfRecord(record: StockRecord): Omit<InventoryRecordRow, 'createdAt'> {
  return {
    ...recordRef(record),
    quantityAvailable: record.levels.available,
    quantityReserved: record.levels.reserved,
    minimumStock: record.levels.minimumStock,
    ...record.location,
    version: record.version,
    updatedAt: record.updatedAt,
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
 * Reads bypass the identity map: records are turned into plain values at once and written with conditional
 * native updates, so a second read in the same transaction must see the database, not a cached entity.
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

/**
 * Writes the record's new state: an insert for a new record (a concurrent creation of the same stock key
 * fails on the unique key and the command is retried), otherwise `UPDATE … WHERE version = <version read>`,
 * which changes nothing when someone else changed the record since it was read.
 */
export async function writeRecord(em: EntityManager, changes: RecordChangeSet): Promise<void> {
  const row = rowOfRecord(changes.current);
  if (changes.isNew) {
    await em.insert(InventoryRecordRow, { ...row, createdAt: row.updatedAt });
    return;
  }
  const updated = await em.nativeUpdate(
    InventoryRecordRow,
    { inventoryId: row.inventoryId, version: changes.originalVersion },
    row,
  );
  if (updated === 0) {
    throw new ConcurrencyConflict(
      `inventory ${row.inventoryId} changed after version ${changes.originalVersion}`,
    );
  }
}

/** Takes ledger ids up front, so each movement's event can name its movement and vice versa. */
export async function nextMovementIds(em: EntityManager, count: number): Promise<number[]> {
  const rows = await em.execute<{ id: string }[]>(
    `select nextval(pg_get_serial_sequence('inventory_movement', 'movement_id')) as id
       from generate_series(1, ?)`,
    [count],
  );
  return rows.map((r) => Number(r.id));
}

export interface BookedEntry {
  movementId: number;
  eventId: string;
  entry: LedgerEntry;
  createdAt: Date;
}

export function movementRowOf(record: StockRecord, booked: BookedEntry): MovementRow {
  const { entry } = booked;
  const { context } = entry;
  return Object.assign(new MovementRow(), {
    movementId: booked.movementId,
    inventoryId: record.inventoryId,
    recordVersion: entry.version,
    productId: record.productId,
    warehouseId: record.warehouseId,
    variantId: record.variantId,
    uomId: record.uomId,
    movementType: entry.movementType,
    quantityChange: entry.quantityChange,
    reservedChange: entry.reservedChange,
    availableBefore: entry.before.available,
    availableAfter: entry.after.available,
    reservedBefore: entry.before.reserved,
    reservedAfter: entry.after.reserved,
    minimumStock: entry.after.minimumStock,
    reason: context.reason ?? null,
    source: context.source ?? null,
    actor: context.actor,
    correlationId: context.correlationId ?? null,
    causationId: context.causationId ?? null,
    transferId: context.transferId ?? null,
    transferLineId: context.transferLineId ?? null,
    batchId: context.batchId ?? null,
    reservationId: context.reservationId ?? null,
    eventId: booked.eventId,
    createdAt: booked.createdAt,
  });
}

export async function insertMovements(em: EntityManager, rows: MovementRow[]): Promise<void> {
  if (rows.length > 0) await em.insertMany(MovementRow, rows);
}
