import type { StockKey } from '@inv/contracts';
import type { StockRecord } from '../domain/record.js';
import type { SqlClient } from '../infra/db/sql-client.js';
import {
  type BookedChanges,
  LinesByRecord,
  type MovementLine,
  type MovementOutcome,
  refusalOnStock,
  tryApplyMovements,
} from './movements.js';
import { type CombinedAnswer, type CombinerOptions, StatementCombiner } from './statement-combiner.js';

/**
 * A line that can share a statement with other requests' lines: one change of stock (in, out, reserve, release),
 * by stock key, unpinned, without a location, a count or a minimum to set; lines for the same record join one
 * line, their changes applied in arrival order. A statement is all or nothing: see changesTogether for what a
 * refusal does.
 */
export function isCombinable(line: MovementLine): boolean {
  if (!('key' in line.target) || line.target.create === false) return false;
  if (line.expectedVersion !== undefined || line.changes.length !== 1) return false;
  if (line.location && Object.keys(line.location).length > 0) return false;
  const { change } = line.changes[0]!;
  return change.countedAvailable === undefined && change.minimumStock === undefined;
}

/** The requests' lines merged by record (see LinesByRecord), and where each request's change landed. */
function merge(requests: MovementLine[]) {
  const byRecord = new LinesByRecord();
  const placements = requests.map((line) =>
    byRecord.add(line.target as { key: StockKey; create?: boolean }, line.changes[0]!),
  );
  return { lines: byRecord.lines, placements };
}

/**
 * One request's share of a record's booked changes: its own ledger row and events, and the record as that
 * change left it (the version and levels of its movement), exactly what it would have got alone at that point.
 */
function shareOf(booked: BookedChanges, seq: number): BookedChanges {
  const movement = [...booked.movements].sort((a, b) => a.recordVersion - b.recordVersion)[seq - 1]!;
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

/**
 * Changes of several requests in one statement (see isCombinable). If it was refused, nothing was written: a
 * change the stock guard refuses on its record as the statement saw it is refused as it would have been alone
 * (where the statement's look on sight decides the same; a flash sale's losers are not run twice), and every
 * other one runs again alone.
 */
async function changesTogether(
  db: SqlClient,
  requests: MovementLine[],
): Promise<CombinedAnswer<MovementOutcome>[]> {
  const merged = merge(requests);
  const now = new Date();
  const outcome = await tryApplyMovements(db, merged.lines, now);
  if (outcome.ok) {
    return merged.placements.map(({ line, seq }) => ({
      ok: true,
      answer: { ok: true, booked: [shareOf(outcome.booked[line]!, seq)] },
    }));
  }
  return requests.map((request, i): CombinedAnswer<MovementOutcome> => {
    const current = outcome.current[merged.placements[i]!.line] ?? null;
    const error = refusalOnStock(request, current, now);
    return error ? { ok: true, answer: { ok: false, error, current: [current] } } : 'alone';
  });
}

/**
 * The write path of stock changes: single changes of concurrent requests share statements (StatementCombiner),
 * every other line runs in a statement of its own.
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
        together: (lines) => changesTogether(db, lines),
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
