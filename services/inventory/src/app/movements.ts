import { DomainError, type DomainEvent, newEventId, type StockKey } from '@inv/contracts';
import { ConcurrencyConflict, staleVersion } from '@inv/platform';
import {
  type LocationPatch,
  type MovementContext,
  newRecord,
  RecordChangeSet,
  type StockRecord,
} from '../domain/record.js';
import { resolveChange, type StockChange, stockKeyString } from '../domain/stock.js';
import type { MovementRow } from '../infra/db/entities.js';
import {
  bookMovements,
  type ExtendedBooking,
  type MovementGroup,
  type Refusal,
} from '../infra/db/movements.js';
import type { SqlClient } from '../infra/db/sql-client.js';
import { recordDto } from './dto.js';

/**
 * Movements on one record. The target is an existing record (by id) or a stock key; a stock key's record is
 * created by the first movement unless `create` is false.
 */
export interface MovementLine {
  target: { inventoryId: string } | { key: StockKey; create?: boolean };
  /** Applied in order, each its own version, ledger row and events. A count must be the only change. */
  changes: { change: StockChange; context: MovementContext }[];
  /** The version the caller saw (If-Match): any other version refuses with OPTIMISTIC_LOCK_FAILURE. */
  expectedVersion?: number;
  location?: LocationPatch;
}

/** What one line booked: the record after it, its ledger rows and the events queued for them. */
export interface BookedChanges {
  record: StockRecord;
  movements: MovementRow[];
  events: DomainEvent[];
}

export type MovementOutcome =
  | { ok: true; booked: BookedChanges[] }
  | {
      ok: false;
      /** The first refusal, as the client sees it (INSUFFICIENT_STOCK, OPTIMISTIC_LOCK_FAILURE, NOT_FOUND). */
      error: DomainError;
      /** Per line: the record as it was when the movements were refused (null: it does not exist). */
      current: (StockRecord | null)[];
    };

/**
 * Movement lines built by record: the changes added for one stock key join one line (created, if at all, by its
 * first change), in the order added; each add says where its change landed (`line`, and `seq` from 1 within it).
 * For statements that book several requests' changes together.
 */
export class LinesByRecord {
  readonly lines: MovementLine[] = [];
  private readonly lineOfKey = new Map<string, number>();

  add(
    target: { key: StockKey; create?: boolean },
    change: MovementLine['changes'][number],
  ): { line: number; seq: number } {
    const id = stockKeyString(target.key);
    let line = this.lineOfKey.get(id);
    if (line === undefined) {
      line = this.lines.push({ target, changes: [] }) - 1;
      this.lineOfKey.set(id, line);
    }
    return { line, seq: this.lines[line]!.changes.push(change) };
  }
}

/** A client that names the version it saw fails at once when the record moved on, with the current record. */
function staleRecord(current: StockRecord | null, expectedVersion: number): DomainError {
  return staleVersion('record', expectedVersion, {
    version: current?.version ?? 0,
    current: current ? recordDto(current) : null,
  });
}

function checkLines(lines: MovementLine[]): void {
  const seen = new Set<string>();
  for (const line of lines) {
    if (line.changes.length === 0) throw new Error('a movement line needs at least one change');
    const counts = line.changes.filter((c) => c.change.countedAvailable !== undefined).length;
    if (counts > 0 && line.changes.length > 1) throw new Error('a count must be the only change of its line');
    const id = 'inventoryId' in line.target ? line.target.inventoryId : stockKeyString(line.target.key);
    if (seen.has(id)) throw new Error(`two movement lines for the same record ${id}: merge their changes`);
    seen.add(id);
  }
}

function groupOf(line: MovementLine, now: Date): MovementGroup {
  const byId = 'inventoryId' in line.target;
  return {
    target: {
      inventoryId: byId ? (line.target as { inventoryId: string }).inventoryId : undefined,
      key: byId ? undefined : (line.target as { key: StockKey }).key,
      newInventoryId: newEventId(now.getTime()),
      mayCreate: !byId && (line.target as { create?: boolean }).create !== false,
      expectedVersion: line.expectedVersion,
      location: line.location,
    },
    movements: line.changes.map(({ change, context }) => ({
      change,
      context,
      eventIds: {
        updated: newEventId(now.getTime()),
        lowStock: newEventId(now.getTime()),
        outOfStock: newEventId(now.getTime()),
      },
    })),
  };
}

/**
 * The domain's answer to a line's movements on the record as it is (null: none yet): the INSUFFICIENT_STOCK
 * error with its details if the stock guard refuses them, else null.
 */
export function refusalOnStock(
  line: MovementLine,
  current: StockRecord | null,
  now: Date,
): DomainError | null {
  const key = 'key' in line.target ? line.target.key : null;
  const record =
    current ?? newRecord('-', key ?? { productId: '-', warehouseId: '-', variantId: null, uomId: null }, now);
  const changes = new RecordChangeSet(record, record);
  try {
    for (const { change, context } of line.changes) {
      changes.apply(resolveChange(changes.current.levels, change), context, now);
    }
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  return null;
}

/**
 * The domain's own answer to movements the database refused on stock: replaying them on the levels the database
 * held gives the INSUFFICIENT_STOCK error with its details. The guard is defined once in the domain and once in
 * SQL (tested to agree), so the replay must refuse too.
 */
function insufficiency(line: MovementLine, current: StockRecord | null, now: Date): DomainError {
  const refusal = refusalOnStock(line, current, now);
  if (refusal) return refusal;
  throw new Error(
    `the database refused movements on ${current?.inventoryId ?? 'a new record'} that the domain accepts`,
  );
}

function refusalError(
  line: MovementLine,
  refusal: Refusal,
  current: StockRecord | null,
  now: Date,
): DomainError {
  switch (refusal) {
    case 'stale':
      return staleRecord(current, line.expectedVersion ?? 0);
    case 'not_found': {
      const id = 'inventoryId' in line.target ? line.target.inventoryId : stockKeyString(line.target.key);
      return new DomainError('NOT_FOUND', `no inventory record ${id}`, { inventoryId: id });
    }
    default:
      return insufficiency(line, current, now);
  }
}

/** Creation races are retried at once on the pool: the next statement finds the record the other one created. */
const CREATION_RACE_RETRIES = 3;

/**
 * Applies movements to one or more records atomically, in one database statement: each record's movements run
 * against the levels it holds when the statement locks it (rows locked in inventory_id order), so concurrent
 * deltas never conflict. All lines apply or none: a refused line (stock guard, pinned version, missing record)
 * refuses them all and reports every line's current record. On the pool the statement commits by itself; in an
 * EntityManager's transaction it commits with it. An extension writes more in the same statement, only when
 * every line passed.
 */
export async function tryApplyMovements(
  db: SqlClient,
  lines: MovementLine[],
  now: Date = new Date(),
  extension?: ExtendedBooking,
): Promise<MovementOutcome> {
  checkLines(lines);
  const groups = lines.map((line) => groupOf(line, now));
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await bookMovements(db, groups, now, extension);
      if (result.ok) return { ok: true, booked: result.booked };
      const i = result.refusals.findIndex((r) => r !== null);
      return {
        ok: false,
        error: refusalError(lines[i]!, result.refusals[i]!, result.current[i] ?? null, now),
        current: result.current,
      };
    } catch (error) {
      const retryHere =
        db.autocommit && error instanceof ConcurrencyConflict && attempt < CREATION_RACE_RETRIES;
      if (!retryHere) throw error;
    }
  }
}

/** `tryApplyMovements`, throwing the refusal. */
export async function applyMovements(
  db: SqlClient,
  lines: MovementLine[],
  now: Date = new Date(),
): Promise<BookedChanges[]> {
  const outcome = await tryApplyMovements(db, lines, now);
  if (!outcome.ok) throw outcome.error;
  return outcome.booked;
}

/** Movements on one record; throws the refusal. */
export async function applyMovement(
  db: SqlClient,
  line: MovementLine,
  now: Date = new Date(),
): Promise<BookedChanges> {
  const [booked] = await applyMovements(db, [line], now);
  return booked!;
}
