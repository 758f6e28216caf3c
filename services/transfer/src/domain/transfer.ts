import type { ReservationStatus, TransferEventType, TransferStatus } from '@inv/contracts';

export interface TransferLine {
  lineId: string;
  productId: string;
  variantId: string | null;
  uomId: string | null;
  quantity: number;
  /** Set at shipment: the whole requested quantity leaves the source. */
  shippedQuantity: number | null;
  /** Set at receipt, at most what was shipped. */
  receivedQuantity: number | null;
}

/** Who moved a transfer from one status to another, when and why. */
export interface TransitionRecord {
  from: TransferStatus | null;
  to: TransferStatus;
  actor: string;
  reason: string | null;
  at: Date;
}

export interface TransferState {
  transferId: string;
  sourceWarehouseId: string;
  destinationWarehouseId: string;
  status: TransferStatus;
  reservationStatus: ReservationStatus;
  /** Goes up by one with every change; the basis of optimistic locking and of event order. */
  version: number;
  lines: TransferLine[];
  note: string | null;
  rejectionReason: string | null;
  history: TransitionRecord[];
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/** One change of a transfer: its state before and after, and what to tell the world about it. */
export interface TransferChange {
  before: TransferState | null;
  after: TransferState;
  eventType: TransferEventType;
  actor: string;
  reason: string | null;
  /** The history entry this change adds; null when the status stays (stock reserved). */
  transition: TransitionRecord | null;
  /** True when line quantities changed (shipment, receipt). */
  linesChanged: boolean;
}

/** Missing quantity of a line: shipped minus received, once both are known. */
export function discrepancyOf(line: TransferLine): number | null {
  if (line.shippedQuantity === null || line.receivedQuantity === null) return null;
  return line.shippedQuantity - line.receivedQuantity;
}

export function hasDiscrepancy(transfer: Pick<TransferState, 'lines'>): boolean {
  return transfer.lines.some((line) => (discrepancyOf(line) ?? 0) !== 0);
}

export function eventTypeOf(status: TransferStatus): TransferEventType {
  return `transfer.${status}`;
}

export interface NewTransfer {
  transferId: string;
  sourceWarehouseId: string;
  destinationWarehouseId: string;
  lines: { productId: string; variantId?: string | null; uomId?: string | null; quantity: number }[];
  note?: string | null;
}

/** Line ids are positions, unique within their transfer: the saga names a line by (transfer, line). */
export function lineIdAt(index: number): string {
  return `line-${index + 1}`;
}

/** A new transfer, `requested`, with nothing reserved yet. */
export function requestTransfer(input: NewTransfer, actor: string, now: Date): TransferChange {
  const transition: TransitionRecord = { from: null, to: 'requested', actor, reason: null, at: now };
  const after: TransferState = {
    transferId: input.transferId,
    sourceWarehouseId: input.sourceWarehouseId,
    destinationWarehouseId: input.destinationWarehouseId,
    status: 'requested',
    reservationStatus: 'none',
    version: 1,
    lines: input.lines.map((line, i) => ({
      lineId: lineIdAt(i),
      productId: line.productId,
      variantId: line.variantId ?? null,
      uomId: line.uomId ?? null,
      quantity: line.quantity,
      shippedQuantity: null,
      receivedQuantity: null,
    })),
    note: input.note ?? null,
    rejectionReason: null,
    history: [transition],
    createdBy: actor,
    createdAt: now,
    updatedAt: now,
  };
  return {
    before: null,
    after,
    eventType: 'transfer.requested',
    actor,
    reason: null,
    transition,
    linesChanged: true,
  };
}
