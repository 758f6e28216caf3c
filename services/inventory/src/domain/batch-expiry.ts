export const DAY_MS = 86_400_000;

/** Whole days left before a batch expires (0 on its last day); negative once it has expired. */
export function daysUntilExpiry(expiresAt: Date, now: Date): number {
  return Math.floor((expiresAt.getTime() - now.getTime()) / DAY_MS);
}

/**
 * What a new batch of `quantity` holds once booked: its batches never hold more than the record has on hand (stock
 * beyond them is untracked). A record below zero (an allowed negative `out`, a shipment beyond its reservation)
 * owed units: the arrival covers those first, and only the rest is the batch's.
 */
export function remainingOfNewBatch(quantity: number, onHandAfter: number, inOtherBatches: number): number {
  return Math.max(0, Math.min(quantity, onHandAfter - inOtherBatches));
}

/** A date-only expiry (`2026-03-31`) means the start of that day in UTC. */
export function parseExpiry(value: string): Date {
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value);
}

/**
 * The expiry thresholds (in days) a batch has newly reached. A batch that has already expired reaches none:
 * it is no longer "expiring soon".
 */
export function reachedThresholds(
  expiresAt: Date,
  now: Date,
  thresholdsDays: readonly number[],
  notified: readonly number[],
): number[] {
  const left = expiresAt.getTime() - now.getTime();
  if (left <= 0) return [];
  return thresholdsDays.filter((days) => left <= days * DAY_MS && !notified.includes(days));
}

/**
 * Of several thresholds reached at once (a batch found late, or added close to expiry), only the tightest is
 * announced; the others are recorded as done so they never fire later.
 */
export function thresholdToAnnounce(reached: readonly number[]): number | null {
  return reached.length > 0 ? Math.min(...reached) : null;
}
