import type { StockRecord } from '../domain/record.js';
import { stockKeyString } from '../domain/transfer-saga.js';
import type { SqlClient } from '../infra/db/sql-client.js';
import {
  type BookedChanges,
  type MovementLine,
  type MovementOutcome,
  tryApplyMovements,
} from './movements.js';
import { type CombinedAnswer, type CombinerOptions, StatementCombiner } from './statement-combiner.js';

/**
 * A line that can share a statement with other requests' lines: one change that adds stock and takes nothing,
 * by stock key, unpinned, without a location to set. A statement is all or nothing, and such a change is never
 * refused on stock (a release of more than is reserved is, and is handled by the fallback), so one request's
 * refusal cannot hold back another's; lines for the same record join one group, applied in arrival order.
 */
export function isCombinable(line: MovementLine): boolean {
  if (!('key' in line.target) || line.target.create === false) return false;
  if (line.expectedVersion !== undefined || line.changes.length !== 1) return false;
  if (line.location && Object.keys(line.location).length > 0) return false;
  const { change } = line.changes[0]!;
  return (
    change.countedAvailable === undefined &&
    change.minimumStock === undefined &&
    change.quantityChange > 0 &&
    change.quantityChange + change.reservedChange >= 0
  );
}

/** Where one request's change sits in a combined statement: its line (record) and its place in that line. */
interface Placement {
  line: number;
  change: number;
}

/** Merges lines by record: one line per stock key, its changes in arrival order. */
function merge(requests: MovementLine[]): { lines: MovementLine[]; placements: Placement[] } {
  const lines: MovementLine[] = [];
  const byKey = new Map<string, number>();
  const placements = requests.map((line) => {
    const key = stockKeyString((line.target as { key: Parameters<typeof stockKeyString>[0] }).key);
    let index = byKey.get(key);
    if (index === undefined) {
      index = lines.push({ target: line.target, changes: [] }) - 1;
      byKey.set(key, index);
    }
    const merged = lines[index]!;
    merged.changes.push(line.changes[0]!);
    return { line: index, change: merged.changes.length - 1 };
  });
  return { lines, placements };
}

/**
 * One request's share of a record's booked changes: its own ledger row and events, and the record as that
 * change left it (the version and levels of its movement), exactly what it would have got alone at that point.
 */
export function shareOf(booked: BookedChanges, change: number): BookedChanges {
  const movement = [...booked.movements].sort((a, b) => a.recordVersion - b.recordVersion)[change]!;
  const record: StockRecord = {
    ...booked.record,
    levels: {
      available: movement.availableAfter,
      reserved: movement.reservedAfter,
      minimumStock: movement.minimumStock,
    },
    version: movement.recordVersion,
  };
  return {
    record,
    movements: [movement],
    events: booked.events.filter((e) => e.aggregate.version === movement.recordVersion),
  };
}

/** Increases of several requests in one statement (see isCombinable); each runs alone if it was refused. */
async function increasesTogether(
  db: SqlClient,
  lines: MovementLine[],
): Promise<CombinedAnswer<MovementOutcome>[]> {
  const merged = merge(lines);
  const outcome = await tryApplyMovements(db, merged.lines);
  if (!outcome.ok) return lines.map(() => 'alone');
  return merged.placements.map(({ line, change }) => ({
    ok: true,
    answer: { ok: true, booked: [shareOf(outcome.booked[line]!, change)] },
  }));
}

/**
 * The write path of stock changes: increases of concurrent requests share statements (StatementCombiner), every
 * other line runs in a statement of its own.
 */
export class MovementCombiner {
  private readonly combiner: StatementCombiner<MovementLine, MovementOutcome>;

  constructor(
    private readonly db: SqlClient,
    options: CombinerOptions,
  ) {
    this.combiner = new StatementCombiner(
      {
        alone: (line) => tryApplyMovements(db, [line]),
        together: (lines) => increasesTogether(db, lines),
      },
      options,
    );
  }

  /** Applies one line, combined with other requests' lines when it can be. */
  apply(line: MovementLine): Promise<MovementOutcome> {
    if (!isCombinable(line)) return tryApplyMovements(this.db, [line]);
    return this.combiner.write(line);
  }
}
