import {
  type AccessClaims,
  type CommitReservationRequest,
  createEvent,
  DomainError,
  type DomainEvent,
  type EventData,
  type OrderReservationEventType,
  type Reservation,
  type ReservationReleaseReason,
  type ReservationState,
  seesAllWarehouses,
  subjectOf,
} from '@inv/contracts';
import { assertWarehouseAccess, type Caller, decodePageCursor, keysetPage } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { MovementContext, StockRecord } from '../domain/record.js';
import {
  assertMayRelease,
  decideTransition,
  expiryAfter,
  type HeldLine,
  type LineOutcome,
  planCommit,
  quantitiesPerRecord,
  type ReservationAction,
  releasesHeldStock,
  reservationDeltas,
} from '../domain/reservation.js';
import type { StockDelta } from '../domain/stock.js';
import { findReservation, listReservationRows, type ReservationRow } from '../infra/db/reservations.js';
import {
  extendReservation,
  type LineEventInput,
  reservationTransitions,
} from '../infra/db/reservations-sql.js';
import { entityManagerClient } from '../infra/db/sql-client.js';
import { tryApplyMovements } from './movements.js';
import type { PageRequest } from './queries.js';

export function reservationDto(row: ReservationRow): Reservation {
  return {
    reservationId: row.reservationId,
    reference: row.reference,
    status: row.state,
    expiresAt: row.expiresAt.toISOString(),
    lines: row.lines.map((line) => ({
      lineId: line.lineId,
      inventoryId: line.inventoryId,
      warehouseId: line.warehouseId,
      productId: line.productId,
      variantId: line.variantId,
      uomId: line.uomId,
      quantity: line.quantity,
      committedQuantity: line.committedQuantity,
    })),
    releaseReason: row.releaseReason,
    releaseNote: row.releaseNote,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

type LineEventExtra<T extends OrderReservationEventType> = Omit<
  EventData<T>,
  keyof EventData<'inventory.reservation_created'>
>;

/** One event per line, on its record's stock subject, ordered with the record's own events. */
export function lineEvent<T extends OrderReservationEventType>(
  type: T,
  row: ReservationRow,
  line: HeldLine,
  record: Pick<StockRecord, 'inventoryId' | 'version'>,
  extra: LineEventExtra<T>,
  caller: Pick<Caller, 'correlationId'>,
  now: Date,
): DomainEvent {
  return createEvent(
    type,
    {
      inventoryId: line.inventoryId,
      productId: line.productId,
      warehouseId: line.warehouseId,
      variantId: line.variantId,
      uomId: line.uomId,
      reservationId: row.reservationId,
      reference: row.reference,
      lineId: line.lineId,
      quantity: line.quantity,
      expiresAt: row.expiresAt.toISOString(),
      timestamp: now.toISOString(),
      ...extra,
    } as EventData<T>,
    {
      aggregate: { type: 'inventory', id: record.inventoryId, version: record.version },
      correlationId: caller.correlationId,
    },
  );
}

export function contextOf(
  row: ReservationRow,
  caller: Pick<Caller, 'actor' | 'correlationId'>,
  reason: string | null,
) {
  return {
    actor: caller.actor,
    reason,
    source: 'reservation',
    correlationId: caller.correlationId,
    reservationId: row.reservationId,
  } satisfies MovementContext;
}

/** The reservation, if the caller may see every warehouse it holds stock in. */
function assertSees(claims: AccessClaims, row: ReservationRow): void {
  for (const warehouseId of row.warehouseIds) assertWarehouseAccess(claims, warehouseId);
}

function notFound(reservationId: string): DomainError {
  return new DomainError('NOT_FOUND', `no reservation ${reservationId}`, { reservationId });
}

export async function getReservation(
  em: EntityManager,
  claims: AccessClaims,
  reservationId: string,
): Promise<Reservation> {
  const row = await findReservation(em, reservationId);
  if (!row) throw notFound(reservationId);
  assertSees(claims, row);
  return reservationDto(row);
}

export async function listReservations(
  em: EntityManager,
  claims: AccessClaims,
  filter: { reference?: string; status?: ReservationState; warehouseId?: string },
  page: PageRequest,
) {
  if (filter.warehouseId) assertWarehouseAccess(claims, filter.warehouseId);
  const after = decodePageCursor(page.after, ['s']);
  const rows = await listReservationRows(em, {
    reference: filter.reference,
    state: filter.status,
    warehouseId: filter.warehouseId,
    visibleWarehouses: seesAllWarehouses(claims) ? null : claims.warehouses,
    after: after ? String(after[0]) : undefined,
    limit: page.limit + 1,
  });
  return keysetPage(rows, page.limit, (row) => [row.reservationId], reservationDto);
}

/** What a transition request carries besides its action. */
export type TransitionInput =
  | { action: 'commit'; lines?: CommitReservationRequest['lines'] }
  | { action: 'release'; note?: string | null }
  | { action: 'extend'; expiresInSeconds: number }
  | { action: 'expire' };

/**
 * Commit, release, extend or expire a reservation locked by this transaction. A repeated final action answers
 * the current state; records are locked in inventory id order before their stock moves.
 */
export async function transitionLocked(
  em: EntityManager,
  row: ReservationRow,
  input: TransitionInput,
  caller: Pick<Caller, 'actor' | 'correlationId'>,
  now: Date,
): Promise<ReservationRow> {
  const action: ReservationAction = input.action;
  const decision = decideTransition(row.state, action, row.expiresAt, now);
  if (!decision.apply) return row;
  const next: ReservationRow = { ...row, state: decision.to, updatedAt: now };
  if (input.action === 'extend') {
    next.expiresAt = expiryAfter(now, input.expiresInSeconds);
    // Each event's record version is filled in by the statement.
    const events = row.lines.map((line) =>
      lineEvent(
        'inventory.reservation_extended',
        next,
        line,
        { inventoryId: line.inventoryId, version: 0 },
        { previousExpiresAt: row.expiresAt.toISOString() },
        caller,
        now,
      ),
    );
    await extendReservation(entityManagerClient(em), row.reservationId, next.expiresAt, now, events);
    return next;
  }
  const outcomes: LineOutcome[] =
    input.action === 'commit'
      ? planCommit(row.lines, input.lines)
      : row.lines.map((line) => ({ line, committed: 0, released: line.quantity }));
  const reason: ReservationReleaseReason =
    input.action === 'commit' ? 'partial_commit' : input.action === 'expire' ? 'expired' : 'released';
  if (input.action !== 'commit') {
    next.releaseReason = reason as Exclude<ReservationReleaseReason, 'partial_commit'>;
    next.releaseNote = input.action === 'release' ? (input.note ?? null) : null;
  }
  const note = input.action === 'release' ? (input.note ?? null) : null;
  const context = contextOf(row, caller, note ?? reason);
  const perLine = outcomes.map((o) => ({ ...o, inventoryId: o.line.inventoryId }));
  const commits = quantitiesPerRecord(perLine, (o) => o.committed);
  const releases = quantitiesPerRecord(perLine, (o) => o.released);
  // Every line holds more than zero, so every record moves: its commit, then its release, each a version.
  const ids = [...new Set(row.lines.map((l) => l.inventoryId))].sort();
  const recOf = new Map(ids.map((id, rec) => [id, rec]));
  if (input.action === 'commit') {
    next.lines = outcomes.map(({ line, committed }) => ({ ...line, committedQuantity: committed }));
  }
  const events: LineEventInput[] = [];
  const queue = (line: HeldLine, event: DomainEvent) =>
    events.push({ rec: recOf.get(line.inventoryId)!, event, subject: subjectOf(event) });
  // The record's version after the movements is filled in by the statement.
  const unversioned = (line: HeldLine) => ({ inventoryId: line.inventoryId, version: 0 });
  for (const { line, committed, released } of outcomes) {
    if (input.action === 'commit') {
      queue(
        line,
        lineEvent(
          'inventory.reservation_committed',
          next,
          line,
          unversioned(line),
          { committedQuantity: committed, releasedQuantity: released },
          caller,
          now,
        ),
      );
    }
    if (released > 0) {
      queue(
        line,
        lineEvent(
          'inventory.reservation_released',
          next,
          line,
          unversioned(line),
          { reason, releasedQuantity: released, note },
          caller,
          now,
        ),
      );
    }
  }
  const outcome = await tryApplyMovements(
    entityManagerClient(em),
    ids.map((inventoryId) => ({
      target: { inventoryId },
      changes: [
        ...(commits.has(inventoryId) ? [reservationDeltas.commit(commits.get(inventoryId)!)] : []),
        ...(releases.has(inventoryId) ? [reservationDeltas.release(releases.get(inventoryId)!)] : []),
      ].map((change) => ({ change, context })),
    })),
    now,
    reservationTransitions(
      [next],
      input.action === 'commit'
        ? new Map([[row.reservationId, new Map(outcomes.map((o) => [o.line.lineId, o.committed]))]])
        : new Map(),
      events,
    ),
  );
  // Reserved stock is held by this reservation alone: the guard refusing it means the books are wrong.
  if (!outcome.ok) throw outcome.error;
  return next;
}

/** `POST /api/reservations/:id/{commit|release|extend}` for a caller who may see every warehouse it holds. */
export async function transitionReservation(
  em: EntityManager,
  reservationId: string,
  input: Exclude<TransitionInput, { action: 'expire' }>,
  caller: Caller,
  now: Date = new Date(),
): Promise<Reservation> {
  const row = await findReservation(em, reservationId, true);
  if (!row) throw notFound(reservationId);
  assertSees(caller.claims, row);
  const partial = input.action === 'commit' ? input.lines : undefined;
  if (releasesHeldStock(input.action, row.lines, partial)) assertMayRelease(caller.claims, caller.actor, row);
  return reservationDto(await transitionLocked(em, row, input, caller, now));
}

/**
 * Expires reservations the sweeper claimed (locked): every due one gives its stock back, all in one statement
 * (one ledger row per reservation and record, each with its reservation id; the states; the events), however
 * many there are. The state rule still decides each one.
 */
export async function expireLocked(
  em: EntityManager,
  rows: ReservationRow[],
  caller: Pick<Caller, 'actor' | 'correlationId'>,
  now: Date,
): Promise<number> {
  const due = rows.filter((row) => decideTransition(row.state, 'expire', row.expiresAt, now).apply);
  if (due.length === 0) return 0;
  const changes = new Map<string, { change: StockDelta; context: MovementContext }[]>();
  for (const row of due) {
    const context = contextOf(row, caller, 'expired');
    for (const [inventoryId, quantity] of quantitiesPerRecord(row.lines, (l) => l.quantity)) {
      const list = changes.get(inventoryId) ?? [];
      list.push({ change: reservationDeltas.release(quantity), context });
      changes.set(inventoryId, list);
    }
  }
  const ids = [...changes.keys()].sort();
  const recOf = new Map(ids.map((id, rec) => [id, rec]));
  const expired = due.map(
    (row): ReservationRow => ({ ...row, state: 'expired', releaseReason: 'expired', releaseNote: null }),
  );
  const events = expired.flatMap((row) =>
    row.lines.map((line) => {
      const event = lineEvent(
        'inventory.reservation_released',
        row,
        line,
        { inventoryId: line.inventoryId, version: 0 },
        { reason: 'expired', releasedQuantity: line.quantity, note: null },
        caller,
        now,
      );
      return { rec: recOf.get(line.inventoryId)!, event, subject: subjectOf(event) };
    }),
  );
  const outcome = await tryApplyMovements(
    entityManagerClient(em),
    ids.map((inventoryId) => ({ target: { inventoryId }, changes: changes.get(inventoryId)! })),
    now,
    reservationTransitions(expired, new Map(), events),
  );
  // Reserved stock is held by these reservations alone: the guard refusing it means the books are wrong.
  if (!outcome.ok) throw outcome.error;
  return due.length;
}
