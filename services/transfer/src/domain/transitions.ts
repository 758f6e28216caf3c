import {
  DomainError,
  type ReservationStatus,
  TRANSFER_ACTIONS,
  type TransferAction,
  type TransferStatus,
} from '@inv/contracts';
import { assertTransition, type Initiator } from './state-machine.js';
import {
  eventTypeOf,
  type TransferChange,
  type TransferLine,
  type TransferState,
  type TransitionRecord,
} from './transfer.js';

export interface ReceivedLine {
  lineId: string;
  receivedQuantity: number;
}

export interface ActionCommand {
  actor: string;
  reason: string | null;
  /** `receive` only: what arrived, per line. */
  received?: ReceivedLine[];
}

/**
 * What becomes of the reservation when a transfer enters a status: approval asks inventory to reserve, shipment
 * consumes the reservation, cancellation releases whatever is (or is about to be) reserved. Inventory applies
 * the transfer's events in order, so a cancel that overtakes the reservation answer still releases it.
 */
function reservationAfter(current: ReservationStatus, to: TransferStatus, by: Initiator): ReservationStatus {
  switch (to) {
    case 'approved':
      return 'pending';
    case 'shipped':
      return 'consumed';
    case 'cancelled':
      return current === 'pending' || current === 'reserved' ? 'released' : current;
    case 'rejected':
      return by === 'system' ? 'failed' : current;
    default:
      return current;
  }
}

/** Picking takes reserved goods: it waits until inventory has confirmed the reservation. */
function assertReserved(transfer: TransferState): void {
  if (transfer.reservationStatus === 'reserved') return;
  throw new DomainError(
    'RESERVATION_PENDING',
    `The stock of transfer ${transfer.transferId} is not reserved yet (reservation ${transfer.reservationStatus}); retry shortly.`,
    { currentStatus: transfer.status, reservationStatus: transfer.reservationStatus },
  );
}

function invalidReceipt(message: string, field: string, details?: Record<string, unknown>): DomainError {
  return new DomainError('VALIDATION_FAILED', message, details, field);
}

/** Every line exactly once, never more than was shipped; the shortfall becomes the line's discrepancy. */
export function receiveLines(lines: TransferLine[], received: ReceivedLine[]): TransferLine[] {
  const byId = new Map(lines.map((line) => [line.lineId, line]));
  const quantities = new Map<string, number>();
  received.forEach((entry, i) => {
    const line = byId.get(entry.lineId);
    if (!line) {
      throw invalidReceipt(`line ${entry.lineId} is not a line of this transfer`, `lines.${i}.lineId`);
    }
    if (quantities.has(entry.lineId)) {
      throw invalidReceipt(`line ${entry.lineId} is given more than once`, `lines.${i}.lineId`);
    }
    const shipped = line.shippedQuantity ?? line.quantity;
    if (entry.receivedQuantity > shipped) {
      throw invalidReceipt(
        `line ${entry.lineId}: received ${entry.receivedQuantity} is more than the ${shipped} shipped`,
        `lines.${i}.receivedQuantity`,
        { lineId: entry.lineId, shippedQuantity: shipped, receivedQuantity: entry.receivedQuantity },
      );
    }
    quantities.set(entry.lineId, entry.receivedQuantity);
  });
  const missing = lines.filter((line) => !quantities.has(line.lineId)).map((line) => line.lineId);
  if (missing.length > 0) {
    throw invalidReceipt(`every line must be received; missing: ${missing.join(', ')}`, 'lines', {
      missingLineIds: missing,
    });
  }
  return lines.map((line) => ({ ...line, receivedQuantity: quantities.get(line.lineId)! }));
}

function linesAfter(
  transfer: TransferState,
  to: TransferStatus,
  command: ActionCommand,
): TransferLine[] | null {
  if (to === 'shipped') return transfer.lines.map((line) => ({ ...line, shippedQuantity: line.quantity }));
  if (to === 'received') return receiveLines(transfer.lines, command.received ?? []);
  return null;
}

/** Moves a transfer to `to` once the table allows it; the shared step of callers' and the system's changes. */
export function transition(
  transfer: TransferState,
  action: TransferAction,
  command: ActionCommand,
  now: Date,
  by: Initiator = 'caller',
): TransferChange {
  assertTransition(transfer.status, action, by);
  const to = TRANSFER_ACTIONS[action];
  if (to === 'picking_started') assertReserved(transfer);
  const lines = linesAfter(transfer, to, command);
  const record: TransitionRecord = {
    from: transfer.status,
    to,
    actor: command.actor,
    reason: command.reason,
    at: now,
  };
  const after: TransferState = {
    ...transfer,
    status: to,
    reservationStatus: reservationAfter(transfer.reservationStatus, to, by),
    version: transfer.version + 1,
    lines: lines ?? transfer.lines,
    rejectionReason: to === 'rejected' ? command.reason : transfer.rejectionReason,
    history: [...transfer.history, record],
    updatedAt: now,
  };
  return {
    before: transfer,
    after,
    eventType: eventTypeOf(to),
    actor: command.actor,
    reason: command.reason,
    transition: record,
    linesChanged: lines !== null,
  };
}
