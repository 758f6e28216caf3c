import type { StockKey } from '@inv/contracts';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { MovementContext, StockRecord } from '../domain/record.js';
import type { StockDelta } from '../domain/stock.js';
import { entityManagerClient } from '../infra/db/sql-client.js';
import { type MovementOutcome, tryApplyMovements } from './movements.js';

/** The movements of a reservation step on one record, booked in order. */
export interface RecordMovements {
  target: { inventoryId: string } | { key: StockKey };
  deltas: StockDelta[];
  context: MovementContext;
}

/**
 * Moves stock for a reservation step through the one-statement write path, in the command's transaction:
 * every record moves or none, each under its row lock (taken in inventory id order), never from a level read
 * earlier. An existing record is never created by a reservation.
 */
export async function moveReservedStock(
  em: EntityManager,
  groups: RecordMovements[],
  now: Date,
): Promise<MovementOutcome> {
  return tryApplyMovements(
    entityManagerClient(em),
    groups.map((group) => ({
      target: 'key' in group.target ? { key: group.target.key, create: false } : group.target,
      changes: group.deltas.map((change) => ({ change, context: group.context })),
    })),
    now,
  );
}

/** Per record, changes that each carry their own context (several reservations released in one statement). */
export async function moveStockPerChange(
  em: EntityManager,
  groups: { inventoryId: string; changes: { delta: StockDelta; context: MovementContext }[] }[],
  now: Date,
): Promise<MovementOutcome> {
  return tryApplyMovements(
    entityManagerClient(em),
    groups.map((group) => ({
      target: { inventoryId: group.inventoryId },
      changes: group.changes.map(({ delta, context }) => ({ change: delta, context })),
    })),
    now,
  );
}

/** The records as they end, by id, from a successful outcome. */
export function recordsAfter(outcome: Extract<MovementOutcome, { ok: true }>): Map<string, StockRecord> {
  return new Map(outcome.booked.map((b) => [b.record.inventoryId, b.record]));
}
