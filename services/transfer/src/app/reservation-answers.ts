import type { DomainEvent } from '@inv/contracts';
import type { InboxContext } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { applyReservationAnswer, type ReservationAnswer } from '../domain/reservation.js';
import { findTransfer } from '../infra/db/transfers.js';
import { recordChange } from './record.js';

function answerOf(event: DomainEvent): ReservationAnswer | null {
  if (event.type === 'inventory.reserved') return { outcome: 'reserved' };
  if (event.type !== 'inventory.reservation_failed') return null;
  return {
    outcome: 'failed',
    reason: event.data.reason,
    warehouseId: event.data.warehouseId,
    shortages: event.data.shortages,
  };
}

/**
 * The transfer's side of the saga, run by the inbox consumer inside the transaction that records the answer as
 * processed: a redelivered answer never gets here twice, and one that no longer fits the transfer is ignored.
 */
export function reservationAnswerHandler(logger: Logger) {
  return async (em: EntityManager, event: DomainEvent, context: InboxContext): Promise<void> => {
    const answer = answerOf(event);
    if (!answer) return;
    const transferId = (event.data as { transferId: string }).transferId;
    const transfer = await findTransfer(em, transferId);
    if (!transfer) {
      logger.warn(
        { transferId, eventId: event.id, seq: context.streamSeq },
        'answer for an unknown transfer',
      );
      return;
    }
    const effect = applyReservationAnswer(transfer, answer, new Date());
    if ('ignored' in effect) {
      logger.info({ transferId, eventId: event.id, why: effect.ignored }, 'reservation answer ignored');
      return;
    }
    await recordChange(em, effect.change, {
      correlationId: event.correlationId ?? event.id,
      causationId: event.id,
    });
  };
}
