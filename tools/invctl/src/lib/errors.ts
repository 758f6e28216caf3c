/** Exit codes of every command; documented in docs/operators.md. */
export const EXIT = {
  ok: 0,
  /** `rebuild` found differences. */
  differences: 1,
  /** Bad arguments, a refused unsafe action, or a destructive action without confirmation. */
  usage: 2,
  /** NATS or PostgreSQL unreachable, something not found, a publish that failed. */
  failure: 3,
} as const;

/** An error the CLI reports as one line on stderr with its exit code, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}
