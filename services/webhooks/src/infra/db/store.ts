import type { DomainEvent } from '@inv/contracts';
import { appendToOutbox, type Orm } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { canTransition, type Endpoint, type EndpointState, pauseReason } from '../../domain/endpoint.js';

interface EndpointRow {
  endpoint_id: string;
  url: string;
  event_types: string[];
  warehouses: string[];
  secret: string;
  state: EndpointState;
  paused_reason: string | null;
  paused_at: Date | null;
  version: number;
  consecutive_dead_letters: number;
  created_by: string;
  created_at: Date;
}

export interface DeadLetter {
  deadLetterId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  streamSequence: number;
  body: string;
  attempts: number;
  lastError: string;
  createdAt: string;
}

function toEndpoint(row: EndpointRow): Endpoint {
  return {
    endpointId: row.endpoint_id,
    url: row.url,
    eventTypes: row.event_types,
    warehouses: row.warehouses,
    secret: row.secret,
    state: row.state,
    pausedReason: row.paused_reason,
    pausedAt: row.paused_at ? new Date(row.paused_at).toISOString() : null,
    version: Number(row.version),
    consecutiveDeadLetters: Number(row.consecutive_dead_letters),
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export type TransitionResult =
  | { outcome: 'moved'; before: Endpoint; after: Endpoint }
  | { outcome: 'refused'; before: Endpoint }
  | { outcome: 'not_found' };

/** The endpoint after a dead letter was recorded (null if deleted), and whether this one paused it. */
export interface DeadLetterOutcome {
  endpoint: Endpoint | null;
  pausedNow: boolean;
}

/**
 * The error with `secret` replaced in its text and in its causes' (the class, code and everything else kept, so it
 * is still answered as before: 503 while the database is away).
 */
export function redacted(error: unknown, secret: string, depth = 0): unknown {
  if (depth > 3 || typeof error !== 'object' || error === null || secret === '') return error;
  const record = error as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(error)) {
    const value = record[key];
    if (typeof value === 'string' && value.includes(secret))
      record[key] = value.split(secret).join('[secret]');
    else if (key === 'cause') redacted(value, secret, depth + 1);
  }
  return error;
}

/** Endpoints and dead letters, in plain SQL: two small tables with no object graph. */
export class WebhookStore {
  constructor(private readonly orm: Orm) {}

  private run<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.orm.em.fork().getConnection().execute<T[]>(sql, params, 'all');
  }

  async insertEndpoint(
    e: Omit<
      Endpoint,
      'createdAt' | 'state' | 'pausedReason' | 'pausedAt' | 'version' | 'consecutiveDeadLetters'
    >,
  ): Promise<Endpoint> {
    const [row] = await this.run<EndpointRow>(
      `insert into webhook_endpoint (endpoint_id, url, event_types, warehouses, secret, state, created_by)
       values (?, ?, ?::jsonb, ?::jsonb, ?, 'active', ?) returning *`,
      [
        e.endpointId,
        e.url,
        JSON.stringify(e.eventTypes),
        JSON.stringify(e.warehouses),
        e.secret,
        e.createdBy,
      ],
    ).catch((error: unknown) => {
      // The driver's message quotes the statement with its values, and a failed request's error is logged.
      throw redacted(error, e.secret);
    });
    return toEndpoint(row!);
  }

  async listEndpoints(): Promise<Endpoint[]> {
    return (await this.run<EndpointRow>('select * from webhook_endpoint order by endpoint_id')).map(
      toEndpoint,
    );
  }

  async getEndpoint(endpointId: string): Promise<Endpoint | null> {
    const [row] = await this.run<EndpointRow>('select * from webhook_endpoint where endpoint_id = ?', [
      endpointId,
    ]);
    return row ? toEndpoint(row) : null;
  }

  async deleteEndpoint(endpointId: string): Promise<boolean> {
    const rows = await this.run('delete from webhook_endpoint where endpoint_id = ? returning endpoint_id', [
      endpointId,
    ]);
    return rows.length > 0;
  }

  /**
   * Moves an endpoint to `to` (paused with `reason`, or active) and queues the event `eventOf` describes in the
   * outbox, in one transaction: the event is published if and only if the change commits, and a transition
   * refused (already there, or raced by another) publishes nothing.
   */
  async transition(
    endpointId: string,
    to: EndpointState,
    change: { reason: string | null; at: Date },
    eventOf: (before: Endpoint, after: Endpoint) => DomainEvent,
  ): Promise<TransitionResult> {
    return this.orm.em.fork().transactional(async (em): Promise<TransitionResult> => {
      const before = await lockEndpoint(em, endpointId);
      if (!before) return { outcome: 'not_found' };
      if (!canTransition(before.state, to)) return { outcome: 'refused', before };
      const after = await moveTo(em, endpointId, to, change);
      await appendToOutbox(em, [eventOf(before, after)]);
      return { outcome: 'moved', before, after };
    });
  }

  /**
   * Sets an event aside and counts it in the endpoint's run of dead letters; a run reaching `pauseAfter` pauses
   * the endpoint with the event `pausedEventOf` describes, all in one transaction. Idempotent per (endpoint,
   * event): a redelivered message that was already set aside is neither listed nor counted twice.
   */
  async addDeadLetter(
    d: Omit<DeadLetter, 'deadLetterId' | 'createdAt'>,
    pauseAfter: number,
    pausedEventOf: (paused: Endpoint, at: Date) => DomainEvent,
  ): Promise<DeadLetterOutcome> {
    return this.orm.em.fork().transactional(async (em): Promise<DeadLetterOutcome> => {
      const endpoint = await lockEndpoint(em, d.endpointId);
      if (!endpoint) return { endpoint: null, pausedNow: false };
      const inserted = await em.execute(
        `insert into webhook_dead_letter
           (endpoint_id, event_id, event_type, stream_sequence, body, attempts, last_error)
         values (?, ?, ?, ?, ?, ?, ?) on conflict (endpoint_id, event_id) do nothing returning dead_letter_id`,
        [d.endpointId, d.eventId, d.eventType, d.streamSequence, d.body, d.attempts, d.lastError],
      );
      if (inserted.length === 0 || endpoint.state !== 'active') return { endpoint, pausedNow: false };
      const [row] = await em.execute<EndpointRow[]>(
        `update webhook_endpoint set consecutive_dead_letters = consecutive_dead_letters + 1
         where endpoint_id = ? returning *`,
        [d.endpointId],
      );
      const counted = toEndpoint(row!);
      const reason = pauseReason(counted.consecutiveDeadLetters, pauseAfter);
      if (!reason) return { endpoint: counted, pausedNow: false };
      const at = new Date();
      const paused = await moveTo(em, d.endpointId, 'paused', { reason, at });
      await appendToOutbox(em, [pausedEventOf(paused, at)]);
      return { endpoint: paused, pausedNow: true };
    });
  }

  /** Ends an endpoint's run of dead letters: an event was delivered. */
  async endDeadLetterRun(endpointId: string): Promise<void> {
    await this.run(
      `update webhook_endpoint set consecutive_dead_letters = 0
       where endpoint_id = ? and consecutive_dead_letters > 0`,
      [endpointId],
    );
  }

  async listDeadLetters(endpointId: string): Promise<DeadLetter[]> {
    const rows = await this.run<Record<string, unknown>>(
      'select * from webhook_dead_letter where endpoint_id = ? order by stream_sequence',
      [endpointId],
    );
    return rows.map((r) => ({
      deadLetterId: String(r.dead_letter_id),
      endpointId: String(r.endpoint_id),
      eventId: String(r.event_id),
      eventType: String(r.event_type),
      streamSequence: Number(r.stream_sequence),
      body: String(r.body),
      attempts: Number(r.attempts),
      lastError: String(r.last_error),
      createdAt: new Date(r.created_at as string).toISOString(),
    }));
  }

  async removeDeadLetter(endpointId: string, deadLetterId: string): Promise<void> {
    await this.run('delete from webhook_dead_letter where endpoint_id = ? and dead_letter_id = ?', [
      endpointId,
      deadLetterId,
    ]);
  }
}

async function lockEndpoint(em: EntityManager, endpointId: string): Promise<Endpoint | null> {
  const [row] = await em.execute<EndpointRow[]>(
    'select * from webhook_endpoint where endpoint_id = ? for update',
    [endpointId],
  );
  return row ? toEndpoint(row) : null;
}

/** A pause records why and when; a resume clears that and starts a new run of dead letters. */
async function moveTo(
  em: EntityManager,
  endpointId: string,
  to: EndpointState,
  change: { reason: string | null; at: Date },
): Promise<Endpoint> {
  const paused = to === 'paused';
  const [row] = await em.execute<EndpointRow[]>(
    `update webhook_endpoint
        set state = ?, paused_reason = ?, paused_at = ?, version = version + 1,
            consecutive_dead_letters = case when ? then consecutive_dead_letters else 0 end
      where endpoint_id = ? returning *`,
    [to, paused ? change.reason : null, paused ? change.at : null, paused, endpointId],
  );
  return toEndpoint(row!);
}
