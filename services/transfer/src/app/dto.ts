import type { Transfer, TransferEventData, TransferLineSnapshot } from '@inv/contracts';
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
    reason: change.reason,
    timestamp: after.updatedAt.toISOString(),
  };
}
