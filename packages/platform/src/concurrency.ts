import { DomainError } from '@inv/contracts';
import { DeadlockException, OptimisticLockError, UniqueConstraintViolationException } from '@mikro-orm/core';

/** Raised by a use case when its conditional write lost a race; the command is retried from a fresh read. */
export class ConcurrencyConflict extends Error {
  constructor(message = 'concurrent update') {
    super(message);
    this.name = 'ConcurrencyConflict';
  }
}

export function isRetryableConflict(error: unknown): boolean {
  if (error instanceof ConcurrencyConflict || error instanceof OptimisticLockError) return true;
  if (error instanceof UniqueConstraintViolationException || error instanceof DeadlockException) return true;
  const code = (error as { code?: string })?.code;
  return code === '40001' || code === '40P01';
}

/** The original contract's retry schedule for a stale write: 100, 200, 400 ms, then 409. */
export const OPTIMISTIC_RETRY_DELAYS_MS = [100, 200, 400] as const;

export function lockFailure(): DomainError {
  return new DomainError(
    'OPTIMISTIC_LOCK_FAILURE',
    'Concurrent update conflict. Please refresh and try again.',
    { reason: 'RETRIES_EXHAUSTED' },
  );
}

/**
 * A client that names the version it saw (If-Match / expectedVersion) fails at once when the thing has moved on:
 * it must look at the new state (sent along as `current`) before deciding again, so retrying on its behalf would
 * be wrong. `what` names the thing in the message ("record", "transfer").
 */
export function staleVersion(
  what: string,
  expectedVersion: number,
  found: { version: number; current: unknown },
): DomainError {
  return new DomainError(
    'OPTIMISTIC_LOCK_FAILURE',
    `The ${what} was changed by someone else: it is at version ${found.version}, not ${expectedVersion}.`,
    { reason: 'STALE_VERSION', expectedVersion, currentVersion: found.version, current: found.current },
  );
}

/** Throws `staleVersion` when the client named a version and it is not the current one. */
export function assertExpectedVersion(
  what: string,
  expectedVersion: number | undefined,
  found: { version: number; current: () => unknown },
): void {
  if (expectedVersion === undefined || expectedVersion === found.version) return;
  throw staleVersion(what, expectedVersion, { version: found.version, current: found.current() });
}
