import type { Histogram } from 'prom-client';
import type { StockRecord } from '../domain/record.js';
import { stockKeyString } from '../domain/transfer-saga.js';
import type { SqlClient } from '../infra/db/sql-client.js';
import {
  type BookedChanges,
  type MovementLine,
  type MovementOutcome,
  tryApplyMovements,
} from './movements.js';

export interface MovementCombinerOptions {
  /** Combined statements running at once; 0 writes every line in a statement of its own. */
  statements: number;
  /** Lines (requests) per combined statement at most. */
  maxLines?: number;
  /** Observes the lines of every statement the combiner runs. */
  linesPerStatement?: Histogram;
}

interface Waiting {
  line: MovementLine;
  resolve: (outcome: MovementOutcome) => void;
  reject: (error: unknown) => void;
}

const DEFAULT_MAX_LINES = 64;

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

/** Merges the waiting lines by record: one line per stock key, its changes in arrival order. */
function merge(batch: Waiting[]): { lines: MovementLine[]; placements: Placement[] } {
  const lines: MovementLine[] = [];
  const byKey = new Map<string, number>();
  const placements = batch.map(({ line }) => {
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

/**
 * Writes stock increases of concurrent requests together: while `statements` combined statements run, the
 * increases that arrive wait and go together in the next one, one statement (one round trip, one commit, one
 * lock of each record) for up to `maxLines` requests instead of one each. A request that finds a free slot runs
 * at once, so a quiet service adds no wait. If a combined statement is refused, nothing was written, and each of
 * its lines runs again alone to get its own answer. Other movements run alone, as before.
 */
export class MovementCombiner {
  private readonly queue: Waiting[] = [];
  private running = 0;
  private readonly maxLines: number;

  constructor(
    private readonly db: SqlClient,
    private readonly options: MovementCombinerOptions,
  ) {
    this.maxLines = options.maxLines ?? DEFAULT_MAX_LINES;
  }

  /** Applies one line, combined with other requests' lines when it can be. */
  apply(line: MovementLine): Promise<MovementOutcome> {
    if (this.options.statements === 0 || !isCombinable(line)) return tryApplyMovements(this.db, [line]);
    return new Promise((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      this.startStatements();
    });
  }

  private startStatements(): void {
    while (this.running < this.options.statements && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxLines);
      this.running++;
      void this.write(batch).finally(() => {
        this.running--;
        this.startStatements();
      });
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    this.options.linesPerStatement?.observe(batch.length);
    if (batch.length === 1) return this.writeAlone(batch[0]!);
    const { lines, placements } = merge(batch);
    let outcome: MovementOutcome;
    try {
      outcome = await tryApplyMovements(this.db, lines);
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    if (!outcome.ok) {
      await Promise.all(batch.map((waiting) => this.writeAlone(waiting)));
      return;
    }
    batch.forEach((waiting, i) => {
      const { line, change } = placements[i]!;
      waiting.resolve({ ok: true, booked: [shareOf(outcome.booked[line]!, change)] });
    });
  }

  private async writeAlone(waiting: Waiting): Promise<void> {
    await tryApplyMovements(this.db, [waiting.line]).then(waiting.resolve, waiting.reject);
  }
}
