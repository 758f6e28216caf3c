import type { StockKey } from '@inv/contracts';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type MovementContext, RecordChangeSet, type StockRecord } from '../domain/record.js';
import type { StockDelta } from '../domain/stock.js';
import { InventoryRecordRow } from '../infra/db/entities.js';
import { recordOfRow } from '../infra/db/records.js';
import { type BookedChanges, bookChanges } from './ledger.js';

function keyFilter(key: StockKey) {
  return {
    productId: key.productId,
    warehouseId: key.warehouseId,
    variantId: key.variantId ?? null,
    uomId: key.uomId ?? null,
  };
}

const LOCKED = {
  disableIdentityMap: true,
  lockMode: LockMode.PESSIMISTIC_WRITE,
  orderBy: { inventoryId: 'asc' },
} as const;

/**
 * Locks records for the rest of the transaction, always in inventory id order: two commands locking
 * overlapping sets wait for each other instead of deadlocking, and what they read stays true until they commit.
 */
export async function lockRecordsByKeys(em: EntityManager, keys: StockKey[]): Promise<StockRecord[]> {
  if (keys.length === 0) return [];
  const rows = await em.find(InventoryRecordRow, { $or: keys.map(keyFilter) }, LOCKED);
  return rows.map(recordOfRow);
}

export async function lockRecordsByIds(em: EntityManager, ids: string[]): Promise<StockRecord[]> {
  if (ids.length === 0) return [];
  const rows = await em.find(InventoryRecordRow, { inventoryId: { $in: [...new Set(ids)] } }, LOCKED);
  return rows.map(recordOfRow);
}

/** One movement to book on a record. */
export interface StockMovement {
  inventoryId: string;
  delta: StockDelta;
  context: MovementContext;
}

/**
 * Books movements on records this transaction has locked (`lockRecords*`), in inventory id order: per movement
 * the record's new levels and version, its ledger row, its events in the outbox and the batches it takes.
 * Returns each record as it ends.
 */
export async function applyMovements(
  em: EntityManager,
  locked: readonly StockRecord[],
  movements: readonly StockMovement[],
): Promise<Map<string, StockRecord>> {
  const byId = new Map(locked.map((r) => [r.inventoryId, r]));
  const sets = new Map<string, RecordChangeSet>();
  for (const movement of movements) {
    const record = byId.get(movement.inventoryId);
    if (!record) throw new Error(`record ${movement.inventoryId} was not locked before moving its stock`);
    let set = sets.get(movement.inventoryId);
    if (!set) {
      set = new RecordChangeSet(record, record);
      sets.set(movement.inventoryId, set);
    }
    set.apply(movement.delta, movement.context);
  }
  const after = new Map<string, StockRecord>();
  for (const id of [...sets.keys()].sort()) {
    const booked: BookedChanges = await bookChanges(em, sets.get(id)!);
    after.set(id, booked.record);
  }
  return after;
}
