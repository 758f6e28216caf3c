import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../caller.js';
import type { Orm } from '../db/orm.js';
import { type CommandRouteOptions, runCommand } from '../idempotency/command.js';
import { actorOf, idempotencyFrom, sendOutcome } from './request.js';

/** The caller of a command, from an authenticated request. */
export function callerOf(request: FastifyRequest): Caller {
  return { claims: request.claims, actor: actorOf(request), correlationId: request.correlationId };
}

export interface CommandRunnerOptions<B> {
  orm: Orm;
  /** Runs after every commit: wakes the outbox relay. */
  notify: () => void;
  /** The version of what the command answers with, sent as `ETag` (the client's next If-Match). */
  etag?: (body: B) => number;
  /** Where a created resource lives, sent as `Location` with a 201. */
  location?: (body: B) => string;
}

/**
 * Runs a use case as a route's command: Idempotency-Key (a replay says so), retries of retryable conflicts, a
 * wake-up for the relay after commit, then the answer with its ETag and Location. A use case that has a
 * `direct` form runs it instead when there is no Idempotency-Key, outside any transaction of the command's own
 * (its one statement commits by itself).
 */
export function commandRunner<B = unknown>({ orm, notify, etag, location }: CommandRunnerOptions<B>) {
  return async <T extends B>(
    request: FastifyRequest,
    reply: FastifyReply,
    work: (em: EntityManager) => Promise<T>,
    options: CommandRouteOptions & { direct?: () => Promise<T> } = {},
  ) => {
    const idempotency = idempotencyFrom(request);
    const outcome = await runCommand({ orm, idempotency, work, afterCommit: notify, ...options });
    if (etag) reply.header('etag', `"${etag(outcome.body)}"`);
    if (location && outcome.status === 201) reply.header('location', location(outcome.body));
    return sendOutcome(reply, outcome);
  };
}
