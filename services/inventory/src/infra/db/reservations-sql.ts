import { type DomainEvent, subjectOf } from '@inv/contracts';
import type { ExtendedBooking } from './movements.js';
import { bookMovementsSql } from './movements-sql.js';
import type { ReservationRow } from './reservations.js';
import type { SqlClient } from './sql-client.js';

/**
 * Order reservation steps as one statement each: the movement statement (movements-sql.ts) locks the records in
 * inventory id order and moves their stock (one movement per record and kind), and only when every record
 * passed, the CTEs below write the reservation and queue its line events after their record's
 * `inventory.updated`. Nothing is written on a refusal. One round trip instead of a handful, and no record lock
 * held across round trips.
 *
 * The line events come built (createEvent) with placeholders for what only the statement knows: the version the
 * movement gave the record (aggregate version) and, on creation, the record's id (aggregate id,
 * `data.inventoryId`), since the record is found by its stock key under the lock.
 *
 * $5 is always the line events (jsonb array of `rec, position, subject, ev`; `rec` is the movement target
 * holding the line's record).
 */
const LINE_EVENTS = `
line_events as (
  select x.inventory_id, x.version as record_version, 4 + e.position as n, e.subject,
         jsonb_set(jsonb_set(jsonb_set(e.ev, '{aggregate,id}', to_jsonb(x.inventory_id)),
                             '{aggregate,version}', to_jsonb(x.version)),
                   '{data,inventoryId}', to_jsonb(x.inventory_id)) as ev
    from jsonb_to_recordset($5::jsonb) as e(rec int, position int, subject text, ev jsonb)
    join base b on b.rec = e.rec
    join booked x on x.inventory_id = b.inv_id
),`;

const QUEUE_LINE_EVENTS = 'select inventory_id, record_version, n, subject, ev from line_events';

/**
 * Creation of one or more reservations (concurrent requests share a statement): $6 the reservations (jsonb
 * array), $7 their lines (jsonb array, `rec` as for the events). The lines get the ids of the records the
 * statement locked. Two reservations holding the same record are two movements of its target (`seq`), so each
 * line event carries the version its own movement gave the record.
 */
const CREATE_RESERVATIONS_SQL = bookMovementsSql({
  ctes: `
line_events as (
  select c.inv_id as inventory_id, c.version as record_version, 4 + e.position as n, e.subject,
         jsonb_set(jsonb_set(jsonb_set(e.ev, '{aggregate,id}', to_jsonb(c.inv_id)),
                             '{aggregate,version}', to_jsonb(c.version)),
                   '{data,inventoryId}', to_jsonb(c.inv_id)) as ev
    from jsonb_to_recordset($5::jsonb) as e(rec int, seq int, position int, subject text, ev jsonb)
    join checked c on c.rec = e.rec and c.seq = e.seq
   where (select ok from go)
),
reservation as (
  insert into order_reservation (reservation_id, reference, state, expires_at, warehouse_ids, release_reason,
                                 release_note, created_by, created_at, updated_at)
  select h.reservation_id, h.reference, 'active', h.expires_at, h.warehouse_ids, null, null, h.created_by, $3, $3
    from jsonb_to_recordset($6::jsonb) as h(reservation_id text, reference text, expires_at timestamptz,
                                            warehouse_ids text[], created_by text)
   where (select ok from go)
  returning reservation_id
),
reservation_lines as (
  insert into order_reservation_line (reservation_id, line_id, position, inventory_id, product_id, warehouse_id,
                                      variant_id, uom_id, quantity, committed_quantity)
  select r.reservation_id, l.line_id, l.position, b.inv_id, l.product_id, l.warehouse_id, l.variant_id, l.uom_id,
         l.quantity, null
    from jsonb_to_recordset($7::jsonb) as l(rec int, reservation_id text, line_id text, position int,
                                            product_id text, warehouse_id text, variant_id text, uom_id text,
                                            quantity bigint)
    join reservation r on r.reservation_id = l.reservation_id
    join base b on b.rec = l.rec
  returning line_id
),`,
  events: QUEUE_LINE_EVENTS,
  result: `, 'reservationLines', (select count(*) from reservation_lines)`,
});

/**
 * Commit, release or expiry of reservations the transaction has locked (the sweeper expires many at once): $6
 * their new states (jsonb array), $7 the committed quantity per line on a commit (jsonb array of
 * `reservation_id, line_id, quantity`, empty otherwise).
 */
const TRANSITION_RESERVATIONS_SQL = bookMovementsSql({
  ctes: `${LINE_EVENTS}
reservation_state as (
  update order_reservation o
     set state = s.state, expires_at = s.expires_at, release_reason = s.release_reason,
         release_note = s.release_note, updated_at = $3
    from jsonb_to_recordset($6::jsonb) as s(reservation_id text, state text, expires_at timestamptz,
                                            release_reason text, release_note text)
   where o.reservation_id = s.reservation_id and (select ok from go)
  returning o.reservation_id
),
committed_lines as (
  update order_reservation_line l set committed_quantity = c.quantity
    from jsonb_to_recordset($7::jsonb) as c(reservation_id text, line_id text, quantity bigint)
   where l.reservation_id = c.reservation_id and l.line_id = c.line_id
     and c.reservation_id = any(array(select reservation_id from reservation_state))
  returning l.line_id
),`,
  events: QUEUE_LINE_EVENTS,
  result: `, 'reservations', (select count(*) from reservation_state),
  'committedLines', (select count(*) from committed_lines)`,
});

/**
 * Extension of a reservation the transaction has locked: no stock moves, so no version either. Its events
 * carry each record's version, read under a share lock so that a movement in flight on the record commits
 * first and the events are queued after its own (per record, outbox order stays version order).
 * $1 the reservation id, $2 the new expiry, $3 the time of the change, $4 the events (jsonb array of
 * `inventory_id, position, subject, ev`).
 */
const EXTEND_RESERVATION_SQL = `
with events as (
  select * from jsonb_to_recordset($4::jsonb) as e(inventory_id text, position int, subject text, ev jsonb)
),
held as (
  select r.inventory_id, r.version from inventory_record r
   where r.inventory_id = any(array(select inventory_id from events))
   order by r.inventory_id
     for share
),
extended as (
  update order_reservation set expires_at = $2, updated_at = $3 where reservation_id = $1
  returning reservation_id
),
queued as (
  insert into outbox (event_id, event_type, subject, order_key, payload)
  select (e.ev->>'id')::uuid, e.ev->>'type', e.subject, 'inventory:' || h.inventory_id,
         jsonb_set(e.ev, '{aggregate,version}', to_jsonb(h.version))
    from events e
    join held h on h.inventory_id = e.inventory_id
   where exists (select 1 from extended)
   order by h.inventory_id, e.position
  returning id
)
select (select count(*) from extended)::int as extended, (select count(*) from queued)::int as queued`;

/** A line event and the movement target (`rec`) whose record it concerns. */
export interface LineEventInput {
  rec: number;
  event: DomainEvent;
  subject: string;
}

function lineEventsJson(events: LineEventInput[]): string {
  return JSON.stringify(
    events.map(({ rec, event, subject }, position) => ({ rec, position, subject, ev: event })),
  );
}

/** A reservation to create, and where each of its lines sits among the statement's movements. */
export interface ReservationToCreate {
  row: ReservationRow;
  /** Per line: the movement target holding its record (`rec`) and its movement there (`seq`, from 1). */
  placements: { rec: number; seq: number }[];
  /** Per line, its event (aggregate and record ids filled in by the statement). */
  events: DomainEvent[];
}

/** Writes the reservations with their stock. */
export function reservationCreation(reservations: ReservationToCreate[]): ExtendedBooking {
  return {
    sql: CREATE_RESERVATIONS_SQL,
    name: 'inventory_create_reservations',
    params: [
      JSON.stringify(
        reservations.flatMap(({ placements, events }) =>
          events.map((ev, position) => ({ ...placements[position]!, position, subject: subjectOf(ev), ev })),
        ),
      ),
      JSON.stringify(
        reservations.map(({ row }) => ({
          reservation_id: row.reservationId,
          reference: row.reference,
          expires_at: row.expiresAt.toISOString(),
          warehouse_ids: row.warehouseIds,
          created_by: row.createdBy,
        })),
      ),
      JSON.stringify(
        reservations.flatMap(({ row, placements }) =>
          row.lines.map((line, i) => ({
            rec: placements[i]!.rec,
            reservation_id: row.reservationId,
            line_id: line.lineId,
            position: i,
            product_id: line.productId,
            warehouse_id: line.warehouseId,
            variant_id: line.variantId,
            uom_id: line.uomId,
            quantity: line.quantity,
          })),
        ),
      ),
    ],
  };
}

type StateChange = Pick<
  ReservationRow,
  'reservationId' | 'state' | 'expiresAt' | 'releaseReason' | 'releaseNote'
>;

/**
 * Saves the states `next` (and the committed quantity per line of a commit, by reservation id) with the stock
 * their commit, release or expiry moves.
 */
export function reservationTransitions(
  next: StateChange[],
  committed: Map<string, Map<string, number>>,
  events: LineEventInput[],
): ExtendedBooking {
  return {
    sql: TRANSITION_RESERVATIONS_SQL,
    name: 'inventory_transition_reservations',
    params: [
      lineEventsJson(events),
      JSON.stringify(
        next.map((row) => ({
          reservation_id: row.reservationId,
          state: row.state,
          expires_at: row.expiresAt.toISOString(),
          release_reason: row.releaseReason,
          release_note: row.releaseNote,
        })),
      ),
      JSON.stringify(
        [...committed].flatMap(([reservation_id, lines]) =>
          [...lines].map(([line_id, quantity]) => ({ reservation_id, line_id, quantity })),
        ),
      ),
    ],
  };
}

/**
 * Moves the expiry of a locked reservation to `expiresAt` and queues its events (`event.aggregate.id` is the
 * line's record; its version is filled in). Returns false when the reservation is gone.
 */
export async function extendReservation(
  db: SqlClient,
  reservationId: string,
  expiresAt: Date,
  now: Date,
  events: DomainEvent[],
): Promise<boolean> {
  const [row] = await db.query<{ extended: number }>(
    EXTEND_RESERVATION_SQL,
    [
      reservationId,
      expiresAt,
      now,
      JSON.stringify(
        events.map((ev, position) => ({
          inventory_id: ev.aggregate.id,
          position,
          subject: subjectOf(ev),
          ev,
        })),
      ),
    ],
    'inventory_extend_reservation',
  );
  return row!.extended === 1;
}
