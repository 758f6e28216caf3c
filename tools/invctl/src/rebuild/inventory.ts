import { EVENTS_STREAM, type EventOf } from '@inv/contracts';
import type pg from 'pg';
import { decodeMessage } from '../lib/decode.js';
import type { Broker } from '../lib/nats.js';
import { openReader } from '../lib/reader.js';
import type { ChainBreak, StockState } from './diff.js';

/** Table and column names of the inventory service (services/inventory migrations). */
const RECORD_COLUMNS = `inventory_id as "inventoryId", product_id as "productId", warehouse_id as "warehouseId",
  variant_id as "variantId", uom_id as "uomId"`;

/** Every `inventory.updated` subject: the events that carry a record's quantities after each movement. */
export const STOCK_UPDATED_FILTER = 'inventory.product.*.warehouse.*.variant.*.uom.*.updated';

interface NumericRow {
  inventoryId: string;
  productId: string;
  warehouseId: string;
  variantId: string | null;
  uomId: string | null;
  quantityAvailable: string;
  quantityReserved: string;
  minimumStock: string;
  version: string;
}

/** pg returns bigint as text; stock quantities fit in a double. */
function stateOf(row: NumericRow): StockState {
  return {
    ...row,
    quantityAvailable: Number(row.quantityAvailable),
    quantityReserved: Number(row.quantityReserved),
    minimumStock: Number(row.minimumStock),
    version: Number(row.version),
  };
}

export async function liveRecords(db: pg.Client): Promise<StockState[]> {
  const { rows } = await db.query<NumericRow>(
    `select ${RECORD_COLUMNS}, quantity_available as "quantityAvailable", quantity_reserved as "quantityReserved",
            minimum_stock as "minimumStock", version
       from inventory_record order by inventory_id`,
  );
  return rows.map(stateOf);
}

/** The records whose ids lie in `(from, to]` (`to` null: no upper bound); ranges hold whole records. */
export interface IdRange {
  from: string;
  to: string | null;
}

function rangeSql(range: IdRange, column = 'inventory_id'): { sql: string; params: string[] } {
  return range.to === null
    ? { sql: `${column} > $1`, params: [range.from] }
    : { sql: `${column} > $1 and ${column} <= $2`, params: [range.from, range.to] };
}

/** Up to `limit` live records after `after`, in id order: one keyset batch of the streaming rebuild. */
export async function liveRecordsAfter(db: pg.Client, after: string, limit: number): Promise<StockState[]> {
  const { rows } = await db.query<NumericRow>(
    `select ${RECORD_COLUMNS}, quantity_available as "quantityAvailable", quantity_reserved as "quantityReserved",
            minimum_stock as "minimumStock", version
       from inventory_record where inventory_id > $1 order by inventory_id limit $2`,
    [after, limit],
  );
  return rows.map(stateOf);
}

/**
 * Each record of the range as its ledger says it is: available and reserved are the sums of the movements'
 * changes, the version is the last movement's, the minimum stock and the key columns are those on the last
 * movement. Served by the ledger's (inventory_id, record_version) index, a range at a time.
 */
export async function recordsFromLedger(db: pg.Client, range: IdRange): Promise<StockState[]> {
  const where = rangeSql(range);
  const { rows } = await db.query<NumericRow>(
    `select distinct on (inventory_id) ${RECORD_COLUMNS},
            sum(quantity_change) over w as "quantityAvailable",
            sum(reserved_change) over w as "quantityReserved",
            minimum_stock as "minimumStock",
            record_version as version
       from inventory_movement
      where ${where.sql}
     window w as (partition by inventory_id)
      order by inventory_id, record_version desc`,
    where.params,
  );
  return rows.map(stateOf);
}

/** Movements of the range that do not start where the previous one of their record ended, or whose version skips. */
export async function ledgerChainBreaks(db: pg.Client, range: IdRange): Promise<ChainBreak[]> {
  const where = rangeSql(range);
  const { rows } = await db.query(
    `select inventory_id as "inventoryId", record_version as "recordVersion",
            coalesce(previous_version, 0) + 1 as "expectedVersion",
            available_before as "availableBefore", previous_available as "previousAvailableAfter",
            reserved_before as "reservedBefore", previous_reserved as "previousReservedAfter"
       from (select m.inventory_id, m.record_version, m.available_before, m.reserved_before,
                    lag(record_version) over w as previous_version,
                    lag(available_after) over w as previous_available,
                    lag(reserved_after) over w as previous_reserved
               from inventory_movement m
              where ${where.sql}
             window w as (partition by inventory_id order by record_version)) chain
      where record_version <> coalesce(previous_version, 0) + 1
         or available_before <> coalesce(previous_available, 0)
         or reserved_before <> coalesce(previous_reserved, 0)
      order by inventory_id, record_version`,
    where.params,
  );
  return rows.map((r) => ({
    inventoryId: r.inventoryId,
    recordVersion: Number(r.recordVersion),
    expectedVersion: Number(r.expectedVersion),
    availableBefore: Number(r.availableBefore),
    previousAvailableAfter: r.previousAvailableAfter === null ? null : Number(r.previousAvailableAfter),
    reservedBefore: Number(r.reservedBefore),
    previousReservedAfter: r.previousReservedAfter === null ? null : Number(r.previousReservedAfter),
  }));
}

export interface LedgerBatch {
  live: StockState[];
  rebuilt: StockState[];
  breaks: ChainBreak[];
}

/**
 * The live records and the ledger, `batchSize` records at a time in id order: each batch covers the id range
 * from the previous batch's last record to its own last one (the final batch is open-ended, so ledger rows of
 * records that are not live still show up). Memory holds one batch, whatever the size of the tables.
 */
export async function* ledgerBatches(db: pg.Client, batchSize: number): AsyncGenerator<LedgerBatch> {
  let from = '';
  for (;;) {
    const live = await liveRecordsAfter(db, from, batchSize);
    const last = live.length === batchSize ? live.at(-1)!.inventoryId : null;
    const range = { from, to: last };
    yield { live, rebuilt: await recordsFromLedger(db, range), breaks: await ledgerChainBreaks(db, range) };
    if (last === null) return;
    from = last;
  }
}

export async function countLiveRecords(db: pg.Client): Promise<number> {
  const { rows } = await db.query<{ n: number }>('select count(*)::int as n from inventory_record');
  return rows[0]?.n ?? 0;
}

export interface EventsRebuild {
  records: StockState[];
  /** Stream sequences of `inventory.updated` messages that do not decode (left out of the rebuild). */
  invalid: number[];
  /** The stream's first sequence: above 1, older events have aged out and old records may be absent. */
  firstSeq: number;
}

/** Each record as its latest `inventory.updated` event (highest record version) in the stream says it is. */
export async function recordsFromEvents(broker: Broker, stream = EVENTS_STREAM): Promise<EventsRebuild> {
  const reader = await openReader(broker, stream, {
    filters: [STOCK_UPDATED_FILTER],
    label: 'inventory.updated',
  });
  const latest = new Map<string, EventOf<'inventory.updated'>['data']>();
  const invalid: number[] = [];
  for await (const message of reader.messages) {
    const row = decodeMessage(stream, message);
    if (!row.valid || row.event.type !== 'inventory.updated') {
      invalid.push(message.seq);
      continue;
    }
    const data = row.event.data;
    const seen = latest.get(data.inventoryId);
    if (!seen || data.version > seen.version) latest.set(data.inventoryId, data);
  }
  const info = await broker.jsm.streams.info(stream);
  const records = [...latest.values()].map((d) => ({
    inventoryId: d.inventoryId,
    productId: d.productId,
    warehouseId: d.warehouseId,
    variantId: d.variantId,
    uomId: d.uomId,
    quantityAvailable: d.quantityAvailable,
    quantityReserved: d.quantityReserved,
    minimumStock: d.minimumStock,
    version: d.version,
  }));
  return { records, invalid, firstSeq: info.state.first_seq };
}

/** What one order reservation holds on one record: by its own rows, and by replaying its ledger movements. */
export interface ReservationHold {
  reservationId: string;
  inventoryId: string;
  state: string;
  /** The lines' quantities while active, 0 once committed, released or expired. */
  held: number;
  /** Sum of the reserved changes of the movements booked with this reservation id. */
  ledgerHeld: number;
}

/**
 * Order reservations whose ledger movements do not add up to what they hold: the replay of `reservation`,
 * `reservation_release` and `reservation_commit` rows must leave exactly an active reservation's quantities
 * reserved, and nothing for a final one. Empty on a database older than order reservations.
 */
export async function reservationHoldBreaks(db: pg.Client): Promise<ReservationHold[]> {
  const { rows: present } = await db.query(`select to_regclass('order_reservation') is not null as ok`);
  if (!present[0]?.ok) return [];
  const { rows } = await db.query(
    `with held as (
       select l.reservation_id, l.inventory_id, r.state,
              case when r.state = 'active' then sum(l.quantity) else 0 end as held
         from order_reservation_line l join order_reservation r using (reservation_id)
        group by l.reservation_id, l.inventory_id, r.state),
     booked as (
       select reservation_id, inventory_id, sum(reserved_change) as ledger_held
         from inventory_movement where reservation_id is not null group by reservation_id, inventory_id)
     select coalesce(h.reservation_id, b.reservation_id) as "reservationId",
            coalesce(h.inventory_id, b.inventory_id) as "inventoryId",
            coalesce(h.state, '(none)') as state,
            coalesce(h.held, 0) as held, coalesce(b.ledger_held, 0) as "ledgerHeld"
       from held h full join booked b on b.reservation_id = h.reservation_id and b.inventory_id = h.inventory_id
      where coalesce(h.held, 0) <> coalesce(b.ledger_held, 0)
      order by 2, 1`,
  );
  return rows.map((r) => ({ ...r, held: Number(r.held), ledgerHeld: Number(r.ledgerHeld) }));
}
