import { createHash } from 'node:crypto';
import {
  createEvent,
  type DomainEvent,
  parseEvent,
  type ReservationStatus,
  type TransferEventType,
  type TransferLineSnapshot,
  type TransferStatus,
} from '@inv/contracts';

/** A transfer as the transfer service's tables hold it. */
export interface TransferState {
  transferId: string;
  sourceWarehouseId: string;
  destinationWarehouseId: string;
  status: TransferStatus;
  reservationStatus: ReservationStatus;
  version: number;
  updatedAt: Date;
  lines: TransferLineSnapshot[];
}

/** What the transfer caused in inventory: its saga, reservations and the reserved units its movements hold. */
export interface InventorySide {
  saga: { state: string; transferVersion: number } | null;
  /** Reservation rows per status (quantity summed). */
  reservations: Record<string, number>;
  /** Sum of `reserved_change` of every movement booked for the transfer: units it still holds reserved. */
  reservedHeld: number;
}

export interface TransferDifference {
  transferId: string;
  status: TransferStatus;
  transferVersion: number;
  sagaState: string | null;
  sagaVersion: number | null;
  problem: string;
  /** The transfer event that makes inventory catch up, when inventory is behind the transfer. */
  repair: DomainEvent | null;
}

/** The transfer event whose saga step brings inventory to the transfer's current status. */
const CATCH_UP_EVENT: Partial<Record<TransferStatus, TransferEventType>> = {
  approved: 'transfer.approved',
  picking_started: 'transfer.approved',
  packed: 'transfer.approved',
  shipped: 'transfer.shipped',
  received: 'transfer.received',
  completed: 'transfer.received',
  cancelled: 'transfer.cancelled',
  rejected: 'transfer.rejected',
};

/** Saga states that agree with a transfer's status (null: no saga expected). */
function expectedSagaStates(t: TransferState): (string | null)[] {
  switch (t.status) {
    case 'requested':
      return [null];
    case 'approved':
    case 'picking_started':
    case 'packed':
      if (t.reservationStatus === 'failed') return ['failed'];
      // An answer not yet back: the reservation is made or about to be.
      return t.reservationStatus === 'pending' ? ['reserved', 'failed'] : ['reserved'];
    case 'shipped':
      return ['shipped'];
    case 'received':
    case 'completed':
      return ['received'];
    case 'cancelled':
    case 'rejected':
      return ['released', 'closed'];
  }
}

/**
 * Compares one transfer with what inventory did for it; returns every difference. Inventory being behind (its
 * saga saw an older version) is repairable by publishing the transfer's current state again.
 */
export function reconcileTransfer(t: TransferState, inv: InventorySide): TransferDifference[] {
  const differences: TransferDifference[] = [];
  const sagaState = inv.saga?.state ?? null;
  const behind = inv.saga === null || inv.saga.transferVersion < t.version;
  const add = (problem: string, repairable: boolean) =>
    differences.push({
      transferId: t.transferId,
      status: t.status,
      transferVersion: t.version,
      sagaState,
      sagaVersion: inv.saga?.transferVersion ?? null,
      problem,
      repair: repairable && behind ? catchUpEvent(t) : null,
    });

  if (!expectedSagaStates(t).includes(sagaState)) {
    add(`inventory saga is ${sagaState ?? 'missing'} while the transfer is ${t.status}`, true);
  }
  const shouldHold = sagaState === 'reserved' ? (inv.reservations.reserved ?? 0) : 0;
  const final = ['cancelled', 'rejected', 'received', 'completed', 'shipped'].includes(t.status);
  if (final && inv.reservedHeld !== 0) {
    add(`holds ${inv.reservedHeld} reserved unit(s) although the transfer is ${t.status}`, true);
  } else if (inv.reservedHeld !== shouldHold) {
    add(`ledger holds ${inv.reservedHeld} reserved unit(s), reservations say ${shouldHold}`, false);
  }
  return differences;
}

/**
 * The transfer's current state as the event of its last stock-relevant transition, with an id derived from the
 * transfer and its version: queuing it twice is one outbox row, and inventory's inbox applies it once.
 */
export function catchUpEvent(t: TransferState): DomainEvent | null {
  const type = CATCH_UP_EVENT[t.status];
  if (!type) return null;
  const event = createEvent(
    type,
    {
      transferId: t.transferId,
      sourceWarehouseId: t.sourceWarehouseId,
      destinationWarehouseId: t.destinationWarehouseId,
      status: t.status,
      previousStatus: null,
      reservationStatus: t.reservationStatus,
      version: t.version,
      lines: t.lines,
      actor: 'invctl-reconcile',
      reason: 'reconcile: inventory missed this transition',
      timestamp: t.updatedAt.toISOString(),
    },
    {
      aggregate: { type: 'transfer', id: t.transferId, version: t.version },
      correlationId: `reconcile-${t.transferId}`,
      occurredAt: t.updatedAt,
    },
  );
  const withId = {
    ...event,
    id: deterministicEventId(`reconcile:${t.transferId}:${t.version}`, t.updatedAt),
  };
  const checked = parseEvent(withId);
  if (!checked.ok)
    throw new Error(`reconcile built an invalid event for ${t.transferId}: ${checked.message}`);
  return checked.event;
}

/** A UUIDv7 whose time is `at` and whose random bits come from `key`: the same key gives the same id. */
export function deterministicEventId(key: string, at: Date): string {
  const hash = createHash('sha256').update(key).digest('hex');
  const ms = at.getTime().toString(16).padStart(12, '0').slice(-12);
  const variant = ((Number.parseInt(hash[15]!, 16) & 0x3) | 0x8).toString(16);
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${hash.slice(0, 3)}-${variant}${hash.slice(3, 6)}-${hash.slice(6, 18)}`;
}
