/** The retry schedule of one event to one endpoint: exponential, capped, for a bounded total time. */
export interface RetryPolicy {
  baseMs: number;
  maxDelayMs: number;
  /** After this much scheduled waiting the event goes to the dead-letter list (at least 24 h in production). */
  giveUpAfterMs: number;
}

/** Wait before attempt `attempt + 1`, `attempt` counting from 1. */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseMs * 2 ** (attempt - 1));
}

/** Total wait scheduled before the first `attempts` attempts: derived, so no clock needs storing. */
export function waitedBefore(policy: RetryPolicy, attempts: number): number {
  let total = 0;
  for (let a = 1; a < attempts; a++) total += retryDelay(policy, a);
  return total;
}

export type FailureDecision = { action: 'retry'; delayMs: number } | { action: 'dead_letter' };

/** After a failed attempt: retry later, or give up once the schedule has run for `giveUpAfterMs`. */
export function afterFailure(policy: RetryPolicy, attempt: number): FailureDecision {
  if (waitedBefore(policy, attempt + 1) > policy.giveUpAfterMs) return { action: 'dead_letter' };
  return { action: 'retry', delayMs: retryDelay(policy, attempt) };
}
