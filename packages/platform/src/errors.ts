/**
 * A failure of what a service stands on (its configuration, the database, NATS, a dependency that did not answer
 * in time), as opposed to a refusal of a request (`DomainError`). `code` says which for programs, the message
 * says it for people, and `cause` keeps the underlying error. A start-up that fails with one of these is one
 * clear line, not a stack trace.
 */
export class InfrastructureError extends Error {
  constructor(
    readonly code: InfrastructureErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export type InfrastructureErrorCode =
  | 'CONFIG_INVALID'
  | 'DATABASE_UNREACHABLE'
  | 'NATS_UNREACHABLE'
  | 'TIMEOUT';
