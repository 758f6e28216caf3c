import {
  type AccessClaims,
  DomainError,
  type ReservationShortage,
  type ReservationState,
  type Role,
  type StockKey,
} from '@inv/contracts';
import { type StockDelta, type StockLevels, stockKeyString } from './stock.js';

/**
 * Order reservations: a reservation holds stock of one or more records from `active` until it is committed
 * (the goods leave), released by a caller, or expired by the sweeper. Every change of `state` is decided here.
 */
export type ReservationAction = 'commit' | 'release' | 'extend' | 'expire';

export type Transition =
  /** Apply the action: the reservation moves to `to` (extend stays `active` with a new expiry). */
  | { apply: true; to: ReservationState }
  /** Nothing to do: a repeated final action answers the current state. */
  | { apply: false };

const FINAL_OF: Partial<Record<ReservationAction, ReservationState[]>> = {
  commit: ['committed'],
  // A release after expiry finds the stock already back: the caller's wish holds.
  release: ['released', 'expired'],
};

function invalidTransition(state: ReservationState, action: ReservationAction, reason: string): DomainError {
  return new DomainError(
    'INVALID_TRANSITION',
    `Cannot ${action} a reservation that is ${reason}.`,
    { state, action, reason },
    'status',
  );
}

/**
 * What `action` does to a reservation in `state`. A past-due active reservation can no longer be committed or
 * extended (the sweeper is about to give its stock back) but can still be released; `expire` only ever acts
 * on a past-due active one, so the sweeper skips whatever changed since it looked.
 */
export function decideTransition(
  state: ReservationState,
  action: ReservationAction,
  expiresAt: Date,
  now: Date,
): Transition {
  const due = now.getTime() >= expiresAt.getTime();
  if (action === 'expire')
    return state === 'active' && due ? { apply: true, to: 'expired' } : { apply: false };
  if (state !== 'active') {
    if (FINAL_OF[action]?.includes(state)) return { apply: false };
    throw invalidTransition(state, action, state);
  }
  if (action === 'release') return { apply: true, to: 'released' };
  if (due) throw invalidTransition(state, action, 'expired');
  return { apply: true, to: action === 'commit' ? 'committed' : 'active' };
}

/** Roles that may release a hold someone else made (an order's, another integration's). */
const MAY_RELEASE_OTHERS: readonly Role[] = ['manager', 'admin'];

/**
 * Who may let a hold go: whoever made it (a shop's abandoned cart, a cancelled order), or a manager. A clerk
 * releasing another caller's hold would put an order's stock back on sale behind its back.
 */
export function assertMayRelease(
  claims: Pick<AccessClaims, 'roles'>,
  actor: string,
  hold: { reservationId: string; createdBy: string },
): void {
  if (actor === hold.createdBy) return;
  if (claims.roles.some((role) => MAY_RELEASE_OTHERS.includes(role))) return;
  throw new DomainError(
    'FORBIDDEN',
    `releasing reservation ${hold.reservationId}, made by another caller, needs the manager role`,
    { reservationId: hold.reservationId, role: 'manager', reason: 'NOT_THE_CREATOR' },
  );
}

/**
 * Whether a transition gives held stock back to sale: a release, or a commit naming less than a line holds (the
 * rest is released). Either takes the release rule (`assertMayRelease`): a partial commit of nothing is a release.
 */
export function releasesHeldStock(
  action: ReservationAction,
  lines: readonly HeldLine[],
  partial: readonly { lineId: string; quantity: number }[] | undefined,
): boolean {
  if (action === 'release') return true;
  if (action !== 'commit') return false;
  return planCommit(lines, partial).some((outcome) => outcome.released > 0);
}

export function expiryAfter(now: Date, expiresInSeconds: number): Date {
  return new Date(now.getTime() + expiresInSeconds * 1000);
}

/** One line of a reservation as held. */
export interface HeldLine extends StockKey {
  lineId: string;
  inventoryId: string;
  quantity: number;
}

/** The lines' quantities summed per record: what each record is asked for as one movement. */
export function quantitiesPerRecord<L extends { inventoryId: string }>(
  lines: readonly L[],
  quantityOf: (line: L) => number,
): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of lines) {
    const quantity = quantityOf(line);
    if (quantity > 0) sums.set(line.inventoryId, (sums.get(line.inventoryId) ?? 0) + quantity);
  }
  return new Map([...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The short records of a reservation request: lines naming the same record are summed first (two lines of one
 * order must not both be checked against the same stock), then compared with what each record has available.
 * A record that does not exist has nothing available.
 */
export function shortagesOf(
  lines: readonly (StockKey & { quantity: number })[],
  levelsOf: (key: StockKey) => StockLevels | null,
): ReservationShortage[] {
  const requested = new Map<string, { key: StockKey; quantity: number }>();
  for (const line of lines) {
    const id = stockKeyString(line);
    const entry = requested.get(id) ?? { key: line, quantity: 0 };
    entry.quantity += line.quantity;
    requested.set(id, entry);
  }
  const shortages: ReservationShortage[] = [];
  for (const { key, quantity } of requested.values()) {
    const available = levelsOf(key)?.available ?? 0;
    if (available < quantity) {
      shortages.push({
        warehouseId: key.warehouseId,
        productId: key.productId,
        variantId: key.variantId ?? null,
        uomId: key.uomId ?? null,
        requested: quantity,
        available,
      });
    }
  }
  return shortages;
}

export function insufficientStockFor(shortages: ReservationShortage[]): DomainError {
  const first = shortages[0]!;
  return new DomainError(
    'INSUFFICIENT_STOCK',
    `Insufficient stock for ${shortages.length} line(s): ${first.requested} of ${first.productId} requested at ${first.warehouseId}, ${first.available} available.`,
    { shortages, requested: first.requested, available: first.available },
    'lines',
  );
}

/** What a commit does to one line: `committed` leaves the warehouse, `released` goes back to available. */
export interface LineOutcome {
  line: HeldLine;
  committed: number;
  released: number;
}

/**
 * Splits each line into what leaves and what is released. Without a list every line leaves in full; with one,
 * a named line leaves the quantity given (at most its own) and every line not named is released.
 */
export function planCommit(
  lines: readonly HeldLine[],
  partial: readonly { lineId: string; quantity: number }[] | undefined,
): LineOutcome[] {
  if (!partial) return lines.map((line) => ({ line, committed: line.quantity, released: 0 }));
  const asked = new Map<string, number>();
  partial.forEach((entry, i) => {
    const line = lines.find((l) => l.lineId === entry.lineId);
    if (!line) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `no line ${entry.lineId} in this reservation`,
        undefined,
        `lines.${i}.lineId`,
      );
    }
    if (asked.has(entry.lineId)) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `line ${entry.lineId} is named twice`,
        undefined,
        `lines.${i}.lineId`,
      );
    }
    if (entry.quantity > line.quantity) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `line ${entry.lineId} holds ${line.quantity}, cannot commit ${entry.quantity}`,
        { held: line.quantity, requested: entry.quantity },
        `lines.${i}.quantity`,
      );
    }
    asked.set(entry.lineId, entry.quantity);
  });
  return lines.map((line) => {
    const committed = asked.get(line.lineId) ?? 0;
    return { line, committed, released: line.quantity - committed };
  });
}

/** The ledger changes of order reservations; `reservation` is the same movement type the transfer saga books. */
export const reservationDeltas = {
  /** available → reserved. */
  hold: (quantity: number): StockDelta => ({
    movementType: 'reservation',
    quantityChange: -quantity,
    reservedChange: quantity,
  }),
  /** reserved → available. */
  release: (quantity: number): StockDelta => ({
    movementType: 'reservation_release',
    quantityChange: quantity,
    reservedChange: -quantity,
  }),
  /** The goods leave: out of reserved, available untouched. */
  commit: (quantity: number): StockDelta => ({
    movementType: 'reservation_commit',
    quantityChange: 0,
    reservedChange: -quantity,
  }),
};
