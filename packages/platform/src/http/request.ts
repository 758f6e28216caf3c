import { type AccessClaims, canSeeWarehouse, DomainError } from '@inv/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type CommandOutcome, hashRequest, type IdempotencyInput } from '../idempotency/command.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/** Reads `Idempotency-Key`; scoped to the route and the caller so keys never collide across either. */
export function idempotencyFrom(request: FastifyRequest): IdempotencyInput | null {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return null;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
    throw new DomainError(
      'VALIDATION_FAILED',
      'Idempotency-Key must be 1 to 128 visible ASCII characters',
      undefined,
      'Idempotency-Key',
    );
  }
  return {
    scope: `${request.method} ${request.routeOptions.url} ${request.claims?.sub ?? ''}`,
    key,
    requestHash: hashRequest(request.params, request.body),
  };
}

/** The version a client expects, from `If-Match: "3"` (or `3`) or the body's `expectedVersion`. */
export function expectedVersionFrom(request: FastifyRequest, bodyVersion?: number): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined) return bodyVersion;
  const match = typeof header === 'string' ? /^(?:W\/)?"?(\d{1,15})"?$/.exec(header.trim()) : null;
  if (!match) {
    throw new DomainError(
      'VALIDATION_FAILED',
      'If-Match must be a version number such as "3"',
      undefined,
      'If-Match',
    );
  }
  const version = Number(match[1]);
  if (bodyVersion !== undefined && bodyVersion !== version) {
    throw new DomainError(
      'VALIDATION_FAILED',
      'If-Match and expectedVersion disagree',
      undefined,
      'If-Match',
    );
  }
  return version;
}

export function assertWarehouseAccess(claims: AccessClaims, warehouseId: string): void {
  if (!canSeeWarehouse(claims, warehouseId)) {
    throw new DomainError(
      'FORBIDDEN',
      `no access to warehouse ${warehouseId}`,
      { warehouseId },
      'warehouseId',
    );
  }
}

/** Who did it, for ledgers and transition history. */
export function actorOf(request: FastifyRequest): string {
  return request.claims?.sub ?? 'anonymous';
}

/** Sends a command's outcome; a replay of an earlier request with the same Idempotency-Key says so. */
export function sendOutcome<T>(reply: FastifyReply, outcome: CommandOutcome<T>) {
  if (outcome.replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(outcome.status).send(outcome.body);
}
