import { type StockRecord, stockRecordSubject, stockUpdatedJson } from '@inv/testkit';

/**
 * Every timed event carries its send time in `data.reason` as `bench:<ms>`: the reason field travels unchanged
 * from an adjust request through the outbox, the stream, the gateway (and the peers) to the clients, so one
 * parser times all of them. Warm-up events carry another reason and are not timed.
 */
export const TIMED_PREFIX = 'bench:';
export const WARMUP_REASON = 'warmup';

export function timedReason(sentAt: number): string {
  return `${TIMED_PREFIX}${sentAt}`;
}

/** The send time of a timed event's reason, or null for anything else. */
export function sentAtOf(reason: unknown): number | null {
  if (typeof reason !== 'string' || !reason.startsWith(TIMED_PREFIX)) return null;
  const sentAt = Number(reason.slice(TIMED_PREFIX.length));
  return Number.isFinite(sentAt) ? sentAt : null;
}

/** A stock record of the benchmarks, one product with numbered warehouses. */
export type BenchRecord = StockRecord;

/** The stream subject of a record's `inventory.updated` events, as the inventory service publishes them. */
export const recordSubject = stockRecordSubject;

/** A valid `inventory.updated` event at its current version, as the outbox relay would publish it. */
export const stockEventJson = stockUpdatedJson;
