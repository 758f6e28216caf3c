import { z } from 'zod';

/** Every machine-readable error code a REST client can receive (the WebSocket's are `WsErrorCode`); see docs/errors.md. */
export const ErrorCode = z.enum([
  'VALIDATION_FAILED',
  'INVALID_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'NOT_FOUND',
  'OPTIMISTIC_LOCK_FAILURE',
  'INSUFFICIENT_STOCK',
  'INVALID_TRANSITION',
  'RESERVATION_PENDING',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_KEY_IN_PROGRESS',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'SERVICE_UNAVAILABLE',
  /** Too many expensive reads at once: retry after `Retry-After` seconds. */
  'SERVER_BUSY',
  'INTERNAL_ERROR',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/**
 * The error body of every REST endpoint. `error` repeats `message` because clients written against the
 * original contract read `error`.
 */
export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  error: z.string(),
  field: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export function errorBody(
  code: string,
  message: string,
  extra: { field?: string; details?: Record<string, unknown> } = {},
): ErrorBody {
  return { code, message, error: message, ...extra };
}

/**
 * A rule of the domain said no. Domains raise these as values with a code from `ErrorCode`; the HTTP layer maps
 * codes to statuses in one table, so no one inspects messages.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
