import { type DomainEvent, EVENTS_STREAM } from '@inv/contracts';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

export interface StoredEvent {
  seq: number;
  subject: string;
  /** The `Nats-Msg-Id` it was published with (the outbox uses the event id). */
  msgId: string | undefined;
  event: DomainEvent;
}

/**
 * Every event the EVENTS stream holds on subjects matching `filter`, in stream order, read with an ordered
 * consumer: what a test asserts "arrived exactly once and in order" against.
 */
export async function readStoredEvents(nc: NatsConnection, filter = '>'): Promise<StoredEvent[]> {
  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, { filter_subjects: filter });
  const events: StoredEvent[] = [];
  for (;;) {
    const msg = await consumer.next({ expires: 2_000 });
    if (!msg) return events;
    events.push({
      seq: msg.seq,
      subject: msg.subject,
      msgId: msg.headers?.get('Nats-Msg-Id') || undefined,
      event: msg.json<DomainEvent>(),
    });
    if (msg.info.pending === 0) return events;
  }
}
