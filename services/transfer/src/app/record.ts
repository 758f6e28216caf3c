import { createEvent, type DomainEvent, type Transfer } from '@inv/contracts';
import { appendToOutbox } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TransferChange } from '../domain/transfer.js';
import { saveChange } from '../infra/db/transfers.js';
import { eventDataOf, transferDto } from './dto.js';

export interface EventLineage {
  correlationId: string | null;
  /** The event this change reacts to, if any. */
  causationId?: string | null;
}

export function transferEventOf(change: TransferChange, lineage: EventLineage): DomainEvent {
  const { after } = change;
  return createEvent(change.eventType, eventDataOf(change), {
    aggregate: { type: 'transfer', id: after.transferId, version: after.version },
    correlationId: lineage.correlationId,
    causationId: lineage.causationId ?? null,
    occurredAt: after.updatedAt,
  });
}

/**
 * Records a change in the caller's transaction: the transfer, its history and its event in the outbox, so the
 * event is published if and only if the change commits.
 */
export async function recordChange(
  em: EntityManager,
  change: TransferChange,
  lineage: EventLineage,
): Promise<Transfer> {
  await saveChange(em, change);
  await appendToOutbox(em, [transferEventOf(change, lineage)]);
  return transferDto(change.after);
}
