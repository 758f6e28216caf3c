import {
  type AccessClaims,
  type CommitReservationRequest,
  type CreateReservationRequest,
  createEvent,
  DomainError,
  type DomainEvent,
  type EventData,
  newEventId,
  type OrderReservationEventType,
  type Reservation,
  type ReservationReleaseReason,
  type ReservationState,
  type StockKey,
  seesAllWarehouses,
} from '@inv/contracts';
import {
  appendToOutbox,
  assertWarehouseAccess,
  type Caller,
  decodePageCursor,
  keysetPage,
} from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { MovementContext, StockRecord } from '../domain/record.js';
import {
  decideTransition,
  expiryAfter,
  type HeldLine,
  insufficientStockFor,
  type LineOutcome,
  planCommit,
  quantitiesPerRecord,
  type ReservationAction,
  reservationDeltas,
  shortagesOf,
  stockKeyString,
} from '../domain/reservation.js';
import type { StockDelta } from '../domain/stock.js';
import { findRecordsByIds, findRecordsByKeys } from '../infra/db/records.js';
import {
  availableByKeys,
  expireReservationRows,
  findReservation,
  insertReservation,
  listReservationRows,
  type ReservationRow,
  saveReservationState,
} from '../infra/db/reservations.js';
import type { SqlClient } from '../infra/db/sql-client.js';
import type { PageRequest } from './queries.js';
import { moveReservedStock, moveStockPerChange, recordsAfter } from './stock-movements.js';

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
function lineEvent<T extends OrderReservationEventType>(
  type: T,
  row: ReservationRow,
  line: HeldLine,
  record: StockRecord,
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

function contextOf(
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

/**
 * `POST /api/reservations`: holds every line or none. The caller must hold a claim on every warehouse named
 * (checked before anything is read, so a refusal never tells what another warehouse holds). Records are
 * locked in inventory id order, lines of one record are summed, then each record moves available → reserved
 * in one movement.
 */
function keysOf(request: CreateReservationRequest): StockKey[] {
  return request.lines.map((line) => ({
    productId: line.productId,
    warehouseId: line.warehouseId,
    variantId: line.variantId ?? null,
    uomId: line.uomId ?? null,
  }));
}

/**
 * Refuses a request that is short on what was committed a moment ago, on the service's own pool in one
 * statement, before any transaction: in a flash sale the losers then hold neither a row lock nor a pooled
 * transaction while the winners queue for the record. Claims are checked first, so a refusal never tells what
 * another warehouse holds. Not for a request with an Idempotency-Key, whose replay must answer as the first time.
 */
export async function refuseIfShort(db: SqlClient, request: CreateReservationRequest, claims: AccessClaims) {
  for (const line of request.lines) assertWarehouseAccess(claims, line.warehouseId);
  const keys = keysOf(request);
  const seen = new Map((await availableByKeys(db, keys)).map((r) => [stockKeyString(r.key), r.available]));
  const short = shortagesOf(
    keys.map((key, i) => ({ ...key, quantity: request.lines[i]!.quantity })),
    (key) => {
      const available = seen.get(stockKeyString(key));
      return available === undefined ? null : { available, reserved: 0, minimumStock: 0 };
    },
  );
  if (short.length > 0) throw insufficientStockFor(short);
}

export async function createReservation(
  em: EntityManager,
  request: CreateReservationRequest,
  caller: Caller,
  now: Date = new Date(),
): Promise<Reservation> {
  for (const line of request.lines) assertWarehouseAccess(caller.claims, line.warehouseId);
  const keys: StockKey[] = request.lines.map((line) => ({
    productId: line.productId,
    warehouseId: line.warehouseId,
    variantId: line.variantId ?? null,
    uomId: line.uomId ?? null,
  }));
  // Lines naming the same record are summed: one movement per record, checked against what it holds then.
  const perKey = new Map<string, { key: StockKey; quantity: number }>();
  keys.forEach((key, i) => {
    const entry = perKey.get(stockKeyString(key)) ?? { key, quantity: 0 };
    entry.quantity += request.lines[i]!.quantity;
    perKey.set(stockKeyString(key), entry);
  });
  const groups = [...perKey.values()];
  const requested = groups.map((g) => ({ ...g.key, quantity: g.quantity }));
  // A refusal on what was committed a moment ago is a true answer and takes no lock, so a flash sale's
  // losers never queue behind its winners. Acceptance is decided below, under the rows' locks.
  const seen = new Map((await findRecordsByKeys(em, keys)).map((r) => [stockKeyString(r), r]));
  const short = shortagesOf(requested, (key) => seen.get(stockKeyString(key))?.levels ?? null);
  if (short.length > 0) throw insufficientStockFor(short);

  const reservationId = newEventId(now.getTime());
  const row: ReservationRow = {
    reservationId,
    reference: request.reference,
    state: 'active',
    expiresAt: expiryAfter(now, request.expiresInSeconds),
    warehouseIds: [...new Set(keys.map((k) => k.warehouseId))].sort(),
    releaseReason: null,
    releaseNote: null,
    createdBy: caller.actor,
    createdAt: now,
    updatedAt: now,
    lines: keys.map((key, i) => ({
      ...key,
      lineId: `l${i + 1}`,
      // A record's id never changes, so the one read above is the one the movement locks.
      inventoryId: seen.get(stockKeyString(key))!.inventoryId,
      quantity: request.lines[i]!.quantity,
      committedQuantity: null,
    })),
  };
  // Written before the stock moves: the records' row locks are then held only for the movement and commit.
  await insertReservation(em, row);
  const context = contextOf(row, caller, request.reference);
  const outcome = await moveReservedStock(
    em,
    groups.map(({ key, quantity }) => ({
      target: { key },
      deltas: [reservationDeltas.hold(quantity)],
      context,
    })),
    now,
  );
  if (!outcome.ok) {
    const current = new Map(groups.map((g, i) => [stockKeyString(g.key), outcome.current[i] ?? null]));
    const shortages = shortagesOf(requested, (key) => current.get(stockKeyString(key))?.levels ?? null);
    throw shortages.length > 0 ? insufficientStockFor(shortages) : outcome.error;
  }
  const after = recordsAfter(outcome);
  await appendToOutbox(
    em,
    row.lines.map((line) =>
      lineEvent('inventory.reservation_created', row, line, after.get(line.inventoryId)!, {}, caller, now),
    ),
  );
  return reservationDto(row);
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
    const records = new Map(
      (
        await findRecordsByIds(
          em,
          row.lines.map((l) => l.inventoryId),
        )
      ).map((r) => [r.inventoryId, r]),
    );
    await saveReservationState(em, next);
    await appendToOutbox(
      em,
      row.lines.map((line) =>
        lineEvent(
          'inventory.reservation_extended',
          next,
          line,
          records.get(line.inventoryId)!,
          { previousExpiresAt: row.expiresAt.toISOString() },
          caller,
          now,
        ),
      ),
    );
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
  const ids = [...new Set(row.lines.map((l) => l.inventoryId))].sort();
  const groups = ids
    .map((inventoryId) => ({
      target: { inventoryId },
      deltas: [
        ...(commits.has(inventoryId) ? [reservationDeltas.commit(commits.get(inventoryId)!)] : []),
        ...(releases.has(inventoryId) ? [reservationDeltas.release(releases.get(inventoryId)!)] : []),
      ],
      context,
    }))
    .filter((g) => g.deltas.length > 0);
  const outcome = await moveReservedStock(em, groups, now);
  // Reserved stock is held by this reservation alone: the guard refusing it means the books are wrong.
  if (!outcome.ok) throw outcome.error;
  const after = recordsAfter(outcome);
  const untouched =
    after.size === ids.length
      ? new Map<string, StockRecord>()
      : new Map((await findRecordsByIds(em, ids)).map((r) => [r.inventoryId, r]));
  const recordOf = (line: HeldLine) => after.get(line.inventoryId) ?? untouched.get(line.inventoryId)!;
  const events: DomainEvent[] = [];
  for (const { line, committed, released } of outcomes) {
    if (input.action === 'commit') {
      events.push(
        lineEvent(
          'inventory.reservation_committed',
          next,
          line,
          recordOf(line),
          { committedQuantity: committed, releasedQuantity: released },
          caller,
          now,
        ),
      );
    }
    if (released > 0) {
      events.push(
        lineEvent(
          'inventory.reservation_released',
          next,
          line,
          recordOf(line),
          { reason, releasedQuantity: released, note },
          caller,
          now,
        ),
      );
    }
  }
  if (input.action === 'commit') {
    next.lines = outcomes.map(({ line, committed }) => ({ ...line, committedQuantity: committed }));
  }
  await saveReservationState(
    em,
    next,
    input.action === 'commit' ? new Map(outcomes.map((o) => [o.line.lineId, o.committed])) : undefined,
  );
  await appendToOutbox(em, events);
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
  return reservationDto(await transitionLocked(em, row, input, caller, now));
}

/**
 * Expires reservations the sweeper claimed (locked): every due one gives its stock back, all in one movement
 * statement (one ledger row per reservation and record, each with its reservation id), one state update and
 * one outbox append, however many there are. The state rule still decides each one.
 */
export async function expireLocked(
  em: EntityManager,
  rows: ReservationRow[],
  caller: Pick<Caller, 'actor' | 'correlationId'>,
  now: Date,
): Promise<number> {
  const due = rows.filter((row) => decideTransition(row.state, 'expire', row.expiresAt, now).apply);
  if (due.length === 0) return 0;
  const changes = new Map<string, { delta: StockDelta; context: MovementContext }[]>();
  for (const row of due) {
    const context = contextOf(row, caller, 'expired');
    for (const [inventoryId, quantity] of quantitiesPerRecord(row.lines, (l) => l.quantity)) {
      const list = changes.get(inventoryId) ?? [];
      list.push({ delta: reservationDeltas.release(quantity), context });
      changes.set(inventoryId, list);
    }
  }
  const outcome = await moveStockPerChange(
    em,
    [...changes.keys()].sort().map((inventoryId) => ({ inventoryId, changes: changes.get(inventoryId)! })),
    now,
  );
  // Reserved stock is held by these reservations alone: the guard refusing it means the books are wrong.
  if (!outcome.ok) throw outcome.error;
  const after = recordsAfter(outcome);
  await expireReservationRows(
    em,
    due.map((row) => row.reservationId),
    now,
  );
  await appendToOutbox(
    em,
    due.flatMap((row) => {
      const expired: ReservationRow = { ...row, state: 'expired', releaseReason: 'expired', updatedAt: now };
      return row.lines.map((line) =>
        lineEvent(
          'inventory.reservation_released',
          expired,
          line,
          after.get(line.inventoryId)!,
          { reason: 'expired', releasedQuantity: line.quantity, note: null },
          caller,
          now,
        ),
      );
    }),
  );
  return due.length;
}
