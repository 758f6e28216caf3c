import { ApiError } from './api.js';

/** Plain sentences for the services' error codes; the raw message stays available as a detail. */
const SENTENCES: Record<string, string> = {
  VALIDATION_FAILED: 'Some of the values are not accepted',
  INVALID_JSON: 'The request could not be read',
  NOT_FOUND: 'That record does not exist (any more)',
  OPTIMISTIC_LOCK_FAILURE: 'Someone else changed this first',
  INSUFFICIENT_STOCK: 'Not enough stock at the source',
  INVALID_TRANSITION: 'That step is not possible from the current state',
  RESERVATION_PENDING: 'The stock is still being reserved; try again in a moment',
  IDEMPOTENCY_KEY_REUSED: 'This request was already sent with different values',
  IDEMPOTENCY_KEY_IN_PROGRESS: 'This request is still being processed',
  UNAUTHORIZED: 'You are not signed in (or your session expired); reload the page',
  FORBIDDEN: 'You are not allowed to do this for that warehouse',
  RATE_LIMITED: 'Too many requests; wait a moment and try again',
  SERVICE_UNAVAILABLE: 'The service is not available right now; try again shortly',
  INTERNAL_ERROR: 'Something went wrong on the server',
};

export interface Explained {
  text: string;
  details: string;
}

/** A sentence for a code (e.g. a transfer's rejection reason), or the code itself when it is unknown. */
export function sentenceFor(code: string): string {
  return SENTENCES[code] ?? code;
}

export function explainError(error: unknown): Explained {
  if (!(error instanceof ApiError)) {
    return { text: 'Could not reach the service; check the connection.', details: String(error) };
  }
  const field = error.body.field ? ` (field: ${error.body.field})` : '';
  const sentence = SENTENCES[error.body.code] ?? `The request failed (HTTP ${error.status})`;
  return { text: `${sentence}${field}.`, details: `${error.body.code}: ${error.body.message}` };
}
