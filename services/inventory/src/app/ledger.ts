import type { DomainEvent } from '@inv/contracts';
import { appendToOutbox } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { stockEventsOf } from '../domain/events.js';
import type { RecordChangeSet, StockRecord } from '../domain/record.js';
import { EMPTY_LEVELS, onHand } from '../domain/stock.js';
import { takeFromBatchesFirstExpiringFirst } from '../infra/db/batches.js';
import type { MovementRow } from '../infra/db/entities.js';
import { insertMovements, movementRowOf, nextMovementIds, writeRecord } from '../infra/db/records.js';

export interface BookedChanges {
  record: StockRecord;
  movements: MovementRow[];
  events: DomainEvent[];
}

/**
 * Books a command's changes to one record in the caller's transaction: the record (conditional on the version
 * read), one ledger row per change, and each change's events in the outbox. Either all of it commits or none.
 */
export async function bookChanges(em: EntityManager, changes: RecordChangeSet): Promise<BookedChanges> {
  if (changes.entries.length === 0) throw new Error('a change set without changes cannot be booked');
  await writeRecord(em, changes);
  const ids = await nextMovementIds(em, changes.entries.length);
  const record = changes.current;
  const movements: MovementRow[] = [];
  const events: DomainEvent[] = [];
  changes.entries.forEach((entry, i) => {
    const movementId = ids[i]!;
    const stockEvents = stockEventsOf(record, entry, String(movementId));
    movements.push(
      movementRowOf(record, { movementId, eventId: stockEvents[0]!.id, entry, createdAt: record.updatedAt }),
    );
    events.push(...stockEvents);
  });
  await insertMovements(em, movements);
  await appendToOutbox(em, events);
  // After writeRecord: under the record's row lock, which serialises everyone taking from the same batches.
  const leaving = onHand(changes.original?.levels ?? EMPTY_LEVELS) - onHand(record.levels);
  if (leaving > 0) await takeFromBatchesFirstExpiringFirst(em, record.inventoryId, leaving);
  return { record, movements, events };
}
