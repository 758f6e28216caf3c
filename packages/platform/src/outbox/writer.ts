import { type DomainEvent, subjectOf } from '@inv/contracts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { OutboxMessage } from './outbox.entity.js';

/**
 * Channel the outbox relays LISTEN on. Writers do not NOTIFY inside their transaction: PostgreSQL commits
 * notifying transactions one at a time (a global lock held through the WAL flush), which capped 32 writers at
 * ~260 commits/s where the same inserts without it reached ~1,800/s. After a commit the writing process calls
 * `OutboxRelay.notify()`; a relay that is not the leader passes the wake-up on with one coalesced NOTIFY.
 */
export const OUTBOX_NOTIFY_CHANNEL = 'outbox';

/**
 * Queues events for publication inside the caller's transaction: they are published if and only if the change
 * they describe commits. Call the relay's `notify()` after the commit (`runCommand`'s `afterCommit`) so it
 * publishes at once rather than at its next poll.
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
}
