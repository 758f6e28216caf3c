import { type DomainEvent, subjectOf } from '@inv/contracts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { OutboxMessage } from './outbox.entity.js';

/** Channel the outbox relays LISTEN on; the notification is delivered when the writing transaction commits. */
export const OUTBOX_NOTIFY_CHANNEL = 'outbox';

/**
 * Queues events for publication inside the caller's transaction: they are published if and only if the change
 * they describe commits.
 */
export async function appendToOutbox(em: EntityManager, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  for (const event of events) {
    em.persist(
      Object.assign(new OutboxMessage(), {
        eventId: event.id,
        eventType: event.type,
        subject: subjectOf(event),
        orderKey: `${event.aggregate.type}:${event.aggregate.id}`,
        payload: event as unknown as Record<string, unknown>,
      }),
    );
  }
  await em.execute(`select pg_notify('${OUTBOX_NOTIFY_CHANNEL}', '')`);
}
