import {
  type AccessClaims,
  canSeeWarehouse,
  type Transfer,
  type TransferEventData,
  type TransferLineSnapshot,
} from '@inv/contracts';
import { isReservationFailure, publicFailureReason, withoutSourceStock } from '../domain/reservation.js';
import {
  discrepancyOf,
  hasDiscrepancy,
  type TransferChange,
  type TransferLine,
  type TransferState,
} from '../domain/transfer.js';

function lineSnapshot(line: TransferLine): TransferLineSnapshot {
  return { ...line, discrepancy: discrepancyOf(line) };
}

/** The REST representation of a transfer. */
export function transferDto(transfer: TransferState): Transfer {
  return {
    transferId: transfer.transferId,
    sourceWarehouseId: transfer.sourceWarehouseId,
    destinationWarehouseId: transfer.destinationWarehouseId,
    status: transfer.status,
    reservationStatus: transfer.reservationStatus,
    version: transfer.version,
    lines: transfer.lines.map(lineSnapshot),
    note: transfer.note,
    rejectionReason: transfer.rejectionReason,
    hasDiscrepancy: hasDiscrepancy(transfer),
    history: transfer.history.map((h) => ({ ...h, at: h.at.toISOString() })),
    createdBy: transfer.createdBy,
    createdAt: transfer.createdAt.toISOString(),
    updatedAt: transfer.updatedAt.toISOString(),
  };
}

/** The transfer as this caller may read it: the source's stock figures only for callers of the source. */
export function transferDtoFor(transfer: TransferState, claims: AccessClaims): Transfer {
  const visible = canSeeWarehouse(claims, transfer.sourceWarehouseId)
    ? transfer
    : withoutSourceStock(transfer);
  return transferDto(visible);
}

/**
 * The reason an event tells: events reach live subscribers of either warehouse, so a failed reservation's
 * quantities stay in the transfer (readable by callers of the source) and the event names only the place.
 */
function publicReasonOf(change: TransferChange): string | null {
  if (change.transition && isReservationFailure(change.transition)) {
    return publicFailureReason(change.after.sourceWarehouseId);
  }
  return change.reason;
}

/** What a `transfer.*` event carries: the whole transfer after the change, and who changed it why. */
export function eventDataOf(change: TransferChange): TransferEventData {
  const { after } = change;
  return {
    transferId: after.transferId,
    sourceWarehouseId: after.sourceWarehouseId,
    destinationWarehouseId: after.destinationWarehouseId,
    status: after.status,
    previousStatus: change.before?.status ?? null,
    reservationStatus: after.reservationStatus,
    version: after.version,
    lines: after.lines.map(lineSnapshot),
    actor: change.actor,
    reason: publicReasonOf(change),
    timestamp: after.updatedAt.toISOString(),
  };
}
