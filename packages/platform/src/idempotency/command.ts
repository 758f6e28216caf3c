import { createHash } from 'node:crypto';
import { DomainError } from '@inv/contracts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { isRetryableConflict, lockFailure, OPTIMISTIC_RETRY_DELAYS_MS } from '../concurrency.js';
import type { Orm } from '../db/orm.js';
import { sleep } from '../retry.js';

export interface IdempotencyInput {
  /** Route and caller: the same key from two users or on two endpoints never collides. */
  scope: string;
  key: string;
  /** Hash of the request; the same key with another request is refused. */
  requestHash: string;
}

export interface CommandOutcome<T> {
  status: number;
  body: T;
  /** True when this is the stored response of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

export interface CommandOptions<T> {
  orm: Orm;
  idempotency?: IdempotencyInput | null;
  successStatus?: number;
  retryDelaysMs?: readonly number[];
  /**
   * The version the client said it saw (If-Match / expectedVersion). Losing a race then cannot end well on
   * retry, so there is no waiting: one immediate re-run answers with the stale-version error and the current
   * state.
   */
  expectedVersion?: number;
  /** The use case: reads, decides and writes (state, ledger, outbox) inside one transaction. */
  work: (em: EntityManager) => Promise<T>;
  /**
   * The same use case without a transaction of the command's own (e.g. one atomic statement that commits by
   * itself), run instead of `work` when there is no Idempotency-Key: then there is nothing else to commit with it.
   */
  direct?: () => Promise<T>;
  /** Runs after commit, e.g. waking the outbox relay. */
  afterCommit?: () => void;
}

/** What a route adds to a command besides its work: the status of success and the version the client saw. */
export type CommandRouteOptions = Pick<CommandOptions<unknown>, 'successStatus' | 'expectedVersion'>;

class Replay {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly requestHash: string,
  ) {}
}

export function hashRequest(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/**
 * Runs a state-changing command: one transaction per attempt, retried after 100, 200 and 400 ms when it lost an
 * optimistic-locking race, then OPTIMISTIC_LOCK_FAILURE. With an Idempotency-Key the key is claimed inside the
 * same transaction, so a concurrent or later duplicate waits for the first and replays its response.
 */
export async function runCommand<T>(options: CommandOptions<T>): Promise<CommandOutcome<T>> {
  const status = options.successStatus ?? 200;
  const delays =
    options.expectedVersion === undefined ? (options.retryDelaysMs ?? OPTIMISTIC_RETRY_DELAYS_MS) : [0];
  const idem = options.idempotency ?? null;
  for (let attempt = 0; ; attempt++) {
    try {
      if (!idem && options.direct) {
        const body = await options.direct();
        options.afterCommit?.();
        return { status, body, replayed: false };
      }
      const outcome = await options.orm.em.fork().transactional(async (em) => {
        if (idem) {
          const earlier = await claimKey(em, idem);
          if (earlier) return earlier;
        }
        const body = await options.work(em);
        if (idem) await storeResponse(em, idem, status, body);
        return body;
      });
      if (outcome instanceof Replay) return replayOf<T>(outcome, idem!);
      options.afterCommit?.();
      return { status, body: outcome, replayed: false };
    } catch (error) {
      if (!isRetryableConflict(error)) throw error;
      const delay = delays[attempt];
      if (delay === undefined) throw lockFailure();
      if (delay > 0) await sleep(delay);
    }
  }
}

function replayOf<T>(replay: Replay, idem: IdempotencyInput): CommandOutcome<T> {
  if (replay.requestHash !== idem.requestHash) {
    throw new DomainError(
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was already used for a different request.',
      undefined,
      'Idempotency-Key',
    );
  }
  return { status: replay.status, body: replay.body as T, replayed: true };
}

/** Inserts the key, waiting on a concurrent holder; returns the earlier response if the key was already used. */
async function claimKey(em: EntityManager, idem: IdempotencyInput): Promise<Replay | null> {
  const inserted = await em.execute<{ key: string }[]>(
    `insert into idempotency_key (scope, key, request_hash, status_code, response)
     values (?, ?, ?, 0, 'null'::jsonb) on conflict do nothing returning key`,
    [idem.scope, idem.key, idem.requestHash],
  );
  if (inserted.length > 0) return null;
  const [row] = await em.execute<{ request_hash: string; status_code: number; response: unknown }[]>(
    'select request_hash, status_code, response from idempotency_key where scope = ? and key = ?',
    [idem.scope, idem.key],
  );
  if (!row)
    throw new DomainError('IDEMPOTENCY_KEY_IN_PROGRESS', 'A request with this Idempotency-Key is running.');
  return new Replay(row.status_code, row.response, row.request_hash);
}

async function storeResponse(em: EntityManager, idem: IdempotencyInput, status: number, body: unknown) {
  await em.execute(
    'update idempotency_key set status_code = ?, response = ?::jsonb where scope = ? and key = ?',
    [status, JSON.stringify(body), idem.scope, idem.key],
  );
}

/** Purges keys older than the retention period (24 h by default): after that a retry is a new request. */
export async function purgeIdempotencyKeys(orm: Orm, retentionHours = 24): Promise<number> {
  const rows = await orm.em.fork().execute<{ count: string }[]>(
    `with gone as (delete from idempotency_key where created_at < now() - (? * interval '1 hour') returning 1)
       select count(*) from gone`,
    [retentionHours],
  );
  return Number(rows[0]?.count ?? 0);
}
