import type { DomainEvent } from '@inv/contracts';
import { appendToOutbox, type Orm } from '@inv/platform';
import { canTransition, type Endpoint, type EndpointState } from '../../domain/endpoint.js';

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
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export type TransitionResult =
  | { outcome: 'moved'; before: Endpoint; after: Endpoint }
  | { outcome: 'refused'; before: Endpoint }
  | { outcome: 'not_found' };

/** Endpoints and dead letters, in plain SQL: two small tables with no object graph. */
export class WebhookStore {
  constructor(private readonly orm: Orm) {}

  private run<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.orm.em.fork().getConnection().execute<T[]>(sql, params, 'all');
  }

  async insertEndpoint(
    e: Omit<Endpoint, 'createdAt' | 'state' | 'pausedReason' | 'pausedAt' | 'version'>,
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
    );
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
      const [row] = await em.execute<EndpointRow[]>(
        'select * from webhook_endpoint where endpoint_id = ? for update',
        [endpointId],
      );
      if (!row) return { outcome: 'not_found' };
      const before = toEndpoint(row);
      if (!canTransition(before.state, to)) return { outcome: 'refused', before };
      const [updated] = await em.execute<EndpointRow[]>(
        `update webhook_endpoint set state = ?, paused_reason = ?, paused_at = ?, version = version + 1
         where endpoint_id = ? returning *`,
        [to, to === 'paused' ? change.reason : null, to === 'paused' ? change.at : null, endpointId],
      );
      const after = toEndpoint(updated!);
      await appendToOutbox(em, [eventOf(before, after)]);
      return { outcome: 'moved', before, after };
    });
  }

  /** Idempotent per (endpoint, event): a redelivered message that already failed is not listed twice. */
  async addDeadLetter(d: Omit<DeadLetter, 'deadLetterId' | 'createdAt'>): Promise<void> {
    await this.run(
      `insert into webhook_dead_letter
         (endpoint_id, event_id, event_type, stream_sequence, body, attempts, last_error)
       values (?, ?, ?, ?, ?, ?, ?) on conflict (endpoint_id, event_id) do nothing`,
      [d.endpointId, d.eventId, d.eventType, d.streamSequence, d.body, d.attempts, d.lastError],
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
