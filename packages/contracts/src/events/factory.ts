import { newEventId } from '../event-id.js';
import { EVENT_CATALOG, type EventData, type EventOf, type EventType } from './catalog.js';
import type { AggregateRef } from './envelope.js';

export interface EventMeta {
  aggregate: AggregateRef;
  correlationId?: string | null;
  causationId?: string | null;
  occurredAt?: Date;
}

/** Builds an event at its current schema version with a fresh time-ordered id. */
export function createEvent<T extends EventType>(type: T, data: EventData<T>, meta: EventMeta): EventOf<T> {
  return {
    id: newEventId(meta.occurredAt?.getTime()),
    type,
    schemaVersion: EVENT_CATALOG[type].current,
    occurredAt: (meta.occurredAt ?? new Date()).toISOString(),
    aggregate: meta.aggregate,
    correlationId: meta.correlationId ?? null,
    causationId: meta.causationId ?? null,
    data,
  } as EventOf<T>;
}
