import type { EntityManager } from '@mikro-orm/postgresql';
import type { MovementContext, StockRecord } from '../domain/record.js';
import type { StockDelta } from '../domain/stock.js';
import { entityManagerClient } from '../infra/db/sql-client.js';
import { type MovementOutcome, tryApplyMovements } from './movements.js';

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
