export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Share of each delay that is random (0..1), so many clients do not reconnect in step. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.5 };

export function reconnectDelay(
  attempt: number,
  o: BackoffOptions = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const base = Math.min(o.maxMs, o.initialMs * o.factor ** attempt);
  return Math.round(base * (1 - o.jitter) + base * o.jitter * random());
}

/**
 * The delay a gateway suggested in its `reconnect` frame, bounded by the backoff's cap (a server must not park
 * its clients for long); null when it suggested none.
 */
export function suggestedDelay(afterMs: unknown, o: BackoffOptions = DEFAULT_BACKOFF): number | null {
  if (typeof afterMs !== 'number' || !Number.isFinite(afterMs) || afterMs < 0) return null;
  return Math.min(Math.round(afterMs), o.maxMs);
}
