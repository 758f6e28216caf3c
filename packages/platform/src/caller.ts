import type { AccessClaims } from '@inv/contracts';

/** The caller of a command, from the request: what it may do, who it is for the ledgers, and its correlation id. */
export interface Caller {
  claims: AccessClaims;
  actor: string;
  correlationId: string | null;
}
