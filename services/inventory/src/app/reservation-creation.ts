import {
  type CreateReservationRequest,
  type DomainError,
  newEventId,
  type Reservation,
  type StockKey,
} from '@inv/contracts';
import { assertWarehouseAccess, type Caller } from '@inv/platform';
import type { MovementContext, StockRecord } from '../domain/record.js';
import { expiryAfter, insufficientStockFor, reservationDeltas, shortagesOf } from '../domain/reservation.js';
import { stockKeyString } from '../domain/stock.js';
import type { ReservationRow } from '../infra/db/reservations.js';
import { type ReservationToCreate, reservationCreation } from '../infra/db/reservations-sql.js';
import type { SqlClient } from '../infra/db/sql-client.js';
import { LinesByRecord, type MovementOutcome, tryApplyMovements } from './movements.js';
import { contextOf, lineEvent, reservationDto } from './reservations.js';
import { type CombinedAnswer, type CombinerOptions, StatementCombiner } from './statement-combiner.js';

/** Where a line's record is not known yet: the statement that finds it fills it into the row and the events. */
const UNKNOWN_RECORD = { inventoryId: '', version: 0 };

/** A reservation checked and built, ready to book: the row, its line events, and the stock it holds per record. */
export interface PreparedReservation {
  row: ReservationRow;
  events: ReservationToCreate['events'];
  /** One hold per record the reservation names (lines naming the same record summed). */
  holds: { key: StockKey; quantity: number }[];
  /** Per line: its hold. */
  holdOf: number[];
  context: MovementContext;
}

function keysOf(request: CreateReservationRequest): StockKey[] {
  return request.lines.map((line) => ({
    productId: line.productId,
    warehouseId: line.warehouseId,
    variantId: line.variantId ?? null,
    uomId: line.uomId ?? null,
  }));
}

/**
 * Checks the caller may hold stock in every warehouse named (before anything is read, so a refusal never tells
 * what another warehouse holds) and builds the reservation: lines naming the same record are summed into one
 * hold of that record.
 */
export function prepareReservation(
  request: CreateReservationRequest,
  caller: Caller,
  now: Date = new Date(),
): PreparedReservation {
  for (const line of request.lines) assertWarehouseAccess(caller.claims, line.warehouseId);
  const keys = keysOf(request);
  const holds: { key: StockKey; quantity: number }[] = [];
  const holdOfKey = new Map<string, number>();
  const holdOf = keys.map((key, i) => {
    const id = stockKeyString(key);
    let hold = holdOfKey.get(id);
    if (hold === undefined) {
      hold = holds.push({ key, quantity: 0 }) - 1;
      holdOfKey.set(id, hold);
    }
    holds[hold]!.quantity += request.lines[i]!.quantity;
    return hold;
  });
  const row: ReservationRow = {
    reservationId: newEventId(now.getTime()),
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
      inventoryId: UNKNOWN_RECORD.inventoryId,
      quantity: request.lines[i]!.quantity,
      committedQuantity: null,
    })),
  };
  const events = row.lines.map((line) =>
    lineEvent('inventory.reservation_created', row, line, UNKNOWN_RECORD, {}, caller, now),
  );
  return { row, events, holds, holdOf, context: contextOf(row, caller, request.reference) };
}

/**
 * Books reservations in one statement, all or nothing: their holds of one record become that record's movements
 * in the order given (rows locked in inventory id order, each hold checked against what the record holds then).
 */
async function book(db: SqlClient, reservations: PreparedReservation[], now: Date) {
  const byRecord = new LinesByRecord();
  const toCreate = reservations.map((reservation): ReservationToCreate => {
    const holdPlacements = reservation.holds.map(({ key, quantity }) => {
      const change = { change: reservationDeltas.hold(quantity), context: reservation.context };
      const { line, seq } = byRecord.add({ key, create: false }, change);
      return { rec: line, seq };
    });
    const placements = reservation.holdOf.map((hold) => holdPlacements[hold]!);
    return { row: reservation.row, placements, events: reservation.events };
  });
  const outcome = await tryApplyMovements(db, byRecord.lines, now, reservationCreation(toCreate));
  return { outcome, toCreate };
}

function answerOf(
  reservation: ReservationToCreate,
  outcome: Extract<MovementOutcome, { ok: true }>,
): Reservation {
  const { row, placements } = reservation;
  return reservationDto({
    ...row,
    lines: row.lines.map((line, i) => ({
      ...line,
      inventoryId: outcome.booked[placements[i]!.rec]!.record.inventoryId,
    })),
  });
}

/**
 * The refusal of a reservation on the records as a statement saw them (`current`, per movement target; null: no
 * such record, nothing available): INSUFFICIENT_STOCK naming every line short, or null when it asked for no more
 * than each record held.
 */
function shortageError(
  reservation: PreparedReservation,
  recOf: (hold: number) => number,
  current: (StockRecord | null)[],
): DomainError | null {
  const held = new Map(reservation.holds.map((h, i) => [stockKeyString(h.key), current[recOf(i)] ?? null]));
  const shortages = shortagesOf(
    reservation.row.lines,
    (key) => held.get(stockKeyString(key))?.levels ?? null,
  );
  return shortages.length > 0 ? insufficientStockFor(shortages) : null;
}

/**
 * `POST /api/reservations`: holds every line or none, in one statement (reservations-sql.ts). On the pool the
 * statement commits by itself; with an Idempotency-Key it runs in the command's transaction, which stores the
 * answer with it. A refusal names every short line (INSUFFICIENT_STOCK).
 */
export async function bookReservation(
  db: SqlClient,
  reservation: PreparedReservation,
  now: Date = new Date(),
): Promise<Reservation> {
  const { outcome, toCreate } = await book(db, [reservation], now);
  if (outcome.ok) return answerOf(toCreate[0]!, outcome);
  throw shortageError(reservation, (hold) => hold, outcome.current) ?? outcome.error;
}

/**
 * Several reservations in one statement. If it was refused, a reservation that asked for more than its records
 * held as the statement saw them is refused as it would have been alone (a flash sale's losers are not run
 * twice); the others run alone.
 */
async function bookTogether(
  db: SqlClient,
  reservations: PreparedReservation[],
): Promise<CombinedAnswer<Reservation>[]> {
  const { outcome, toCreate } = await book(db, reservations, new Date());
  if (outcome.ok)
    return toCreate.map((reservation) => ({ ok: true, answer: answerOf(reservation, outcome) }));
  return reservations.map((reservation, r) => {
    const recOfHold = (hold: number) => toCreate[r]!.placements[reservation.holdOf.indexOf(hold)]!.rec;
    const error = shortageError(reservation, recOfHold, outcome.current);
    return error ? { ok: false, error } : 'alone';
  });
}

/** Creates the reservations of concurrent requests together on the pool (StatementCombiner). */
export function reservationCombiner(
  db: SqlClient,
  options: CombinerOptions,
): StatementCombiner<PreparedReservation, Reservation> {
  return new StatementCombiner(
    {
      alone: (reservation) => bookReservation(db, reservation),
      together: (reservations) => bookTogether(db, reservations),
    },
    options,
  );
}
