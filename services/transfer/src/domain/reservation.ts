import type { TransferChange, TransferState } from './transfer.js';
import { transition } from './transitions.js';

/** The actor of changes the transfer makes on inventory's word. */
export const INVENTORY_ACTOR = 'system:inventory';

export interface Shortage {
  lineId: string;
  productId: string;
  requested: number;
  available: number;
}

/** Inventory's answer to an approval. */
export type ReservationAnswer =
  | { outcome: 'reserved' }
  | { outcome: 'failed'; reason: string; warehouseId: string; shortages: Shortage[] };

export type AnswerEffect = { change: TransferChange } | { ignored: string };

export function describeFailure(answer: Extract<ReservationAnswer, { outcome: 'failed' }>): string {
  const lines = answer.shortages.map(
    (s) => `${s.lineId} (${s.productId}) requested ${s.requested}, available ${s.available}`,
  );
  return `${answer.reason} at ${answer.warehouseId}${lines.length > 0 ? `: ${lines.join('; ')}` : ''}`;
}

/**
 * Applies inventory's answer to an approved transfer waiting for its reservation: reserved lets picking start
 * (and is announced as `transfer.stock_reserved`); a failure rejects the transfer with the shortage as reason.
 * An answer for a transfer that has moved on (cancelled meanwhile, or answered before) changes nothing:
 * inventory releases a reservation on the cancel event by itself.
 */
export function applyReservationAnswer(
  transfer: TransferState,
  answer: ReservationAnswer,
  now: Date,
): AnswerEffect {
  if (transfer.status !== 'approved' || transfer.reservationStatus !== 'pending') {
    return {
      ignored: `transfer is ${transfer.status} with reservation ${transfer.reservationStatus}, not awaiting an answer`,
    };
  }
  if (answer.outcome === 'failed') {
    const reason = describeFailure(answer);
    return { change: transition(transfer, 'reject', { actor: INVENTORY_ACTOR, reason }, now, 'system') };
  }
  return {
    change: {
      before: transfer,
      after: { ...transfer, reservationStatus: 'reserved', version: transfer.version + 1, updatedAt: now },
      eventType: 'transfer.stock_reserved',
      actor: INVENTORY_ACTOR,
      reason: null,
      transition: null,
      linesChanged: false,
    },
  };
}

/** What callers without access to the source learn of a failed reservation: where, not how much. */
export function publicFailureReason(sourceWarehouseId: string): string {
  return `the stock could not be reserved at ${sourceWarehouseId} (quantities are shown to callers of ${sourceWarehouseId})`;
}

/** True for the rejection inventory's failed reservation caused, whose reason names the source's stock. */
export function isReservationFailure(record: { actor: string; to: string }): boolean {
  return record.actor === INVENTORY_ACTOR && record.to === 'rejected';
}

/**
 * The transfer as a caller who cannot see its source warehouse may read it: a failed reservation's reason
 * ("requested 999999, available 60") tells the source's stock, so it becomes a reason without quantities.
 */
export function withoutSourceStock(transfer: TransferState): TransferState {
  const failure = transfer.history.find(isReservationFailure);
  if (!failure) return transfer;
  const reason = publicFailureReason(transfer.sourceWarehouseId);
  return {
    ...transfer,
    rejectionReason: transfer.status === 'rejected' ? reason : transfer.rejectionReason,
    history: transfer.history.map((record) =>
      isReservationFailure(record) ? { ...record, reason } : record,
    ),
  };
}
