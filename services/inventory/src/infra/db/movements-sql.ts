import { crossesLowStockSql, crossesOutOfStockSql, deficitSql, withinStockSql } from './stock-rules-sql.js';

/**
 * One statement that books movements on one or more records, all or nothing:
 *
 * (`= any(array(…))` rather than `in (select …)`: the planner cannot count a CTE's rows and would scan whole
 * tables; an array lookup is an index scan.)
 *
 *  1. `locked` finds each target (by id, or by stock key) and locks the rows in inventory_id order, so any two
 *     statements lock shared rows in the same order and cannot deadlock. `FOR UPDATE` returns the latest
 *     committed levels, whatever the statement's snapshot saw: the changes are applied to those.
 *     Unless `on_sight` already finds a record short in the snapshot (only takes, no allowNegative, and what it
 *     held then does not cover them: the guard must refuse): then nothing is locked and `held` is the snapshot's
 *     rows, so the refusal is decided on them. A flash sale's losers thus never queue for the row lock
 *     behind its winners; acceptance is only ever decided under the lock. Movements that lower nothing (a
 *     settings change, a reservation's commit) are not takes: on a record already below zero they would pass
 *     the guard on the unlocked snapshot and book over a concurrent change, so they always lock.
 *  2. `checked` runs the movements of each record in order (running sums) and checks each against the stock
 *     guard; `verdicts` adds the pinned version and a missing record. `go` is true when every record passes.
 *  3. Only then: the records are updated (or created), the ledger rows are appended (ids from the bigserial),
 *     each movement's events are built from the booked levels and queued in the outbox (ids drawn after the
 *     row lock, so per record outbox order is version order), leaving stock is taken from batches
 *     first-expiring-first. No pg_notify here: a transaction that NOTIFYs holds a cluster-wide lock from its
 *     pre-commit until it ends, WAL flush included, which serialises every notifying commit (measured: ~60
 *     commits/s on a busy disk, whatever the pool size); the caller wakes the relay after the commit instead.
 *  4. One JSON result: on refusal, the verdicts and the current rows; on success, the rows, the ledger rows
 *     and the events.
 *
 * A record created concurrently between the snapshot and the insert fails the statement on the stock key's
 * unique constraint (nothing is written); running it again finds the record. New records are inserted in stock
 * key order, so two statements creating the same records wait for each other in that order instead of each
 * holding one the other needs (a deadlock: concurrent adjusts of new records share statements).
 *
 * Parameters: $1 targets (jsonb array), $2 movements (jsonb array), $3 the time of the change, $4 the schema
 * versions of inventory.updated / low_stock / out_of_stock (jsonb).
 *
 * An extension (`bookMovementsSql`) adds what else commits with the movements in the same statement, e.g. an
 * order reservation and its lines: its CTEs see `go` (every record passed), `base` (per target `rec`, the record
 * id as `inv_id`) and `booked` (the records as written, empty on refusal); its events are queued in the same
 * outbox insert as the stock events, after those of the same record and version.
 */
export interface MovementSqlExtension {
  /** CTEs (`name as (…),` each, comma-terminated) that may use parameters from $5 on. */
  ctes: string;
  /**
   * A query of further events to queue, columns `inventory_id, record_version, n, subject, ev` (`n` above 3
   * orders them after the record's own events of that version).
   */
  events: string;
  /** Further fields of the result object, as `, 'name', expression`. */
  result?: string;
}

const NO_EXTENSION: MovementSqlExtension = {
  ctes: '',
  events: 'select null::text, null::bigint, null::int, null::text, null::jsonb where false',
};

/**
 * The id of the record with the stock key of row `k` (columns product_id, warehouse_id, variant_id, uom_id).
 * Product and warehouse bound the scan of the stock key's index, which is in that order (migration
 * stock_key_order): `is not distinct from` cannot, so it only filters the product's records in that warehouse.
 */
export function recordIdByKeySql(k: string): string {
  return `select i.inventory_id from inventory_record i
            where i.product_id = ${k}.product_id and i.warehouse_id = ${k}.warehouse_id
              and i.variant_id is not distinct from ${k}.variant_id and i.uom_id is not distinct from ${k}.uom_id`;
}

/** The parameters as rows, and each target's record id (an existing record's, found by id or by stock key). */
const INPUT_CTES = `
recs as (
  select * from jsonb_to_recordset($1::jsonb) as k(
    rec int, inventory_id text, product_id text, warehouse_id text, variant_id text, uom_id text,
    new_id text, expected_version bigint, may_create boolean, loc jsonb)
),
ents as (
  select * from jsonb_to_recordset($2::jsonb) as e(
    rec int, seq int, q bigint, r bigint, counted bigint, allow_neg boolean, min_stock bigint,
    movement_type text, reason text, source text, actor text, correlation_id text, causation_id text,
    transfer_id text, transfer_line_id text, batch_id text, reservation_id text, updated_id uuid, low_id uuid,
    out_id uuid)
),
targets as (
  select k.rec, coalesce(k.inventory_id, (${recordIdByKeySql('k')})) as inventory_id
    from recs k
),
`;

/** Per target: the record as `held` has it (or what a new one would be), and its levels before the movements. */
const BASE_CTE = `
base as (
  select k.rec, k.inventory_id as wanted_id, k.expected_version, k.may_create,
         l.inventory_id as found_id,
         coalesce(l.inventory_id, k.new_id) as inv_id,
         case when l.inventory_id is null then k.product_id else l.product_id end as product_id,
         case when l.inventory_id is null then k.warehouse_id else l.warehouse_id end as warehouse_id,
         case when l.inventory_id is null then k.variant_id else l.variant_id end as variant_id,
         case when l.inventory_id is null then k.uom_id else l.uom_id end as uom_id,
         coalesce(l.quantity_available, 0) as a0,
         coalesce(l.quantity_reserved, 0) as r0,
         coalesce(l.minimum_stock, 0) as m0,
         coalesce(l.version, 0) as v0,
         case when k.loc->'rack' is null then l.rack else k.loc->>'rack' end as rack,
         case when k.loc->'bin' is null then l.bin else k.loc->>'bin' end as bin,
         case when k.loc->'zone' is null then l.zone else k.loc->>'zone' end as zone,
         case when k.loc->'aisle' is null then l.aisle else k.loc->>'aisle' end as aisle,
         to_jsonb(l) as current_row
    from recs k
    join targets g on g.rec = k.rec
    left join held l on l.inventory_id = g.inventory_id
),
`;

/** Per target: why it is refused (`checked` has `within_stock` per movement), and whether every one passed. */
const VERDICT_CTES = `
verdicts as (
  select b.rec,
         case when b.found_id is null and (b.wanted_id is not null or not b.may_create) then 'not_found'
              when b.expected_version is not null and b.expected_version <> b.v0 then 'stale'
              when not (select bool_and(c.within_stock) from checked c where c.rec = b.rec) then 'insufficient'
         end as failure
    from base b
),
go as (
  select coalesce(bool_and(v.failure is null), false) as ok from verdicts v
),
`;

/**
 * The writes once `finals` (per record: the levels after its movements, `found_id` null for a new one) and
 * `checked` (per movement) are known: the records, the ledger rows, and the events built from what was booked.
 */
const WRITE_CTES = `
updated as (
  update inventory_record t
     set quantity_available = f.a1, quantity_reserved = f.r1, minimum_stock = f.m1, version = f.v1,
         rack = f.rack, bin = f.bin, zone = f.zone, aisle = f.aisle, updated_at = $3
    from finals f
   where t.inventory_id = f.found_id
  returning t.*
),
created as (
  insert into inventory_record (inventory_id, product_id, warehouse_id, variant_id, uom_id,
                                quantity_available, quantity_reserved, minimum_stock, rack, bin, zone, aisle,
                                version, created_at, updated_at)
  select f.inv_id, f.product_id, f.warehouse_id, f.variant_id, f.uom_id, f.a1, f.r1, f.m1,
         f.rack, f.bin, f.zone, f.aisle, f.v1, $3, $3
    from finals f
   where f.found_id is null
   order by f.product_id, f.warehouse_id, f.variant_id, f.uom_id
  returning *
),
booked as (
  select * from updated union all select * from created
),
moved as (
  insert into inventory_movement (inventory_id, record_version, product_id, warehouse_id, variant_id, uom_id,
                                  movement_type, quantity_change, reserved_change, available_before, available_after,
                                  reserved_before, reserved_after, minimum_stock, reason, source, actor,
                                  correlation_id, causation_id, transfer_id, transfer_line_id, batch_id, reservation_id,
                                  event_id, created_at)
  select b.inventory_id, c.version, b.product_id, b.warehouse_id, b.variant_id, b.uom_id,
         c.movement_type, c.dq, c.r, c.a_before, c.a_after, c.r_before, c.r_after, c.m_after,
         c.reason, c.source, c.actor, c.correlation_id, c.causation_id, c.transfer_id, c.transfer_line_id,
         c.batch_id, c.reservation_id, c.updated_id, $3
    from checked c join booked b on b.inventory_id = c.inv_id
   order by c.inv_id, c.version
  returning *
),
stated as (
  select m.inventory_id, m.record_version, c.updated_id, c.low_id, c.out_id,
         'inventory.product.' || b.product_id || '.warehouse.' || b.warehouse_id
           || '.variant.' || coalesce(b.variant_id, '_') || '.uom.' || coalesce(b.uom_id, '_') || '.' as subject_prefix,
         jsonb_build_object('type', 'inventory', 'id', m.inventory_id, 'version', m.record_version) as aggregate,
         jsonb_build_object('inventoryId', b.inventory_id, 'productId', b.product_id, 'warehouseId', b.warehouse_id,
                            'variantId', b.variant_id, 'uomId', b.uom_id,
                            'quantityAvailable', m.available_after, 'quantityReserved', m.reserved_after,
                            'minimumStock', m.minimum_stock, 'version', m.record_version,
                            'timestamp', $4::jsonb->>'occurredAt') as levels,
         jsonb_build_object('previousQuantity', m.available_before, 'changeAmount', m.quantity_change,
                            'previousReserved', m.reserved_before, 'reservedChange', m.reserved_change,
                            'movementType', m.movement_type, 'movementId', m.movement_id::text,
                            'transferId', m.transfer_id, 'reason', m.reason, 'source', m.source,
                            'location', jsonb_build_object('rack', b.rack, 'bin', b.bin, 'zone', b.zone,
                                                           'aisle', b.aisle)) as movement,
         ${crossesLowStockSql(
           { available: 'm.available_before', minimumStock: 'c.m_before' },
           { available: 'm.available_after', minimumStock: 'm.minimum_stock' },
         )} as low_stock,
         ${crossesOutOfStockSql({ available: 'm.available_before' }, { available: 'm.available_after' })} as out_of_stock,
         ${deficitSql('m.available_after', 'm.minimum_stock')} as deficit,
         jsonb_build_object('occurredAt', $4::jsonb->>'occurredAt', 'correlationId', m.correlation_id,
                            'causationId', m.causation_id) as meta
    from moved m
    join checked c on c.inv_id = m.inventory_id and c.version = m.record_version
    join booked b on b.inventory_id = m.inventory_id
),
evs as (
  select s.inventory_id, s.record_version, x.n, x.subject, x.ev
    from stated s
   cross join lateral (
     select 1 as n, s.subject_prefix || 'updated' as subject,
            s.meta || jsonb_build_object('id', s.updated_id, 'type', 'inventory.updated',
                                         'schemaVersion', ($4::jsonb->>'updated')::int, 'aggregate', s.aggregate,
                                         'data', s.levels || s.movement) as ev
     union all
     select 2, s.subject_prefix || 'low_stock',
            s.meta || jsonb_build_object('id', s.low_id, 'type', 'inventory.low_stock',
                                         'schemaVersion', ($4::jsonb->>'low_stock')::int, 'aggregate', s.aggregate,
                                         'data', s.levels || jsonb_build_object('deficit', s.deficit))
      where s.low_stock
     union all
     select 3, s.subject_prefix || 'out_of_stock',
            s.meta || jsonb_build_object('id', s.out_id, 'type', 'inventory.out_of_stock',
                                         'schemaVersion', ($4::jsonb->>'out_of_stock')::int,
                                         'aggregate', s.aggregate, 'data', s.levels)
      where s.out_of_stock
   ) x
),
`;

/** Every event, in per-record version order, into the outbox: the stock events and `events` (see the extension). */
function queuedCte(events: string): string {
  return `
queued as (
  insert into outbox (event_id, event_type, subject, order_key, payload)
  select (e.ev->>'id')::uuid, e.ev->>'type', e.subject, 'inventory:' || e.inventory_id, e.ev
    from (select inventory_id, record_version, n, subject, ev from evs union all ${events}) e
   order by e.inventory_id, e.record_version, e.n
  returning id
)`;
}

function resultSql(batchesTaken: string, extra?: string): string {
  return `select json_build_object(
  'ok', (select ok from go),
  'failures', (select json_agg(json_build_object('rec', v.rec, 'failure', v.failure))
                 from verdicts v where v.failure is not null),
  'current', case when not (select ok from go)
                  then (select json_agg(json_build_object('rec', b.rec, 'row', b.current_row)) from base b) end,
  'records', (select json_agg(json_build_object('rec', f.rec, 'row', to_jsonb(x)))
                from booked x join finals f on f.inv_id = x.inventory_id),
  'movements', (select json_agg(to_jsonb(m) order by m.movement_id) from moved m),
  'events', (select json_agg(e.ev order by e.inventory_id, e.record_version, e.n) from evs e),
  'queued', (select count(*) from queued),
  'batchesTaken', ${batchesTaken}${extra ?? ''}
) as result`;
}

export function bookMovementsSql(extension: MovementSqlExtension = NO_EXTENSION): string {
  return `
with ${INPUT_CTES}on_sight as (
  select coalesce(bool_or(e.q < 0 and i.quantity_available + e.q < 0), false) as short
    from (select rec, sum(q) as q from ents group by rec
           having bool_and(counted is null) and bool_and(q <= 0) and not bool_or(allow_neg)) e
    join targets g on g.rec = e.rec
    join inventory_record i on i.inventory_id = g.inventory_id
),
locked as (
  select t.* from inventory_record t
   where t.inventory_id = any(array(select inventory_id from targets where inventory_id is not null))
     and not (select short from on_sight)
   order by t.inventory_id
     for update
),
held as (
  select * from locked
  union all
  select t.* from inventory_record t
   where (select short from on_sight)
     and t.inventory_id = any(array(select inventory_id from targets where inventory_id is not null))
),
${BASE_CTE}resolved as (
  select e.*, b.inv_id, b.a0, b.r0, b.m0, b.v0,
         case when e.counted is null then e.q else e.counted - b.a0 end as dq
    from ents e join base b on b.rec = e.rec
),
running as (
  select s.*,
         s.a0 + sum(s.dq) over w as a_after,
         s.r0 + sum(s.r) over w as r_after,
         coalesce((select e2.min_stock from ents e2
                    where e2.rec = s.rec and e2.seq <= s.seq and e2.min_stock is not null
                    order by e2.seq desc limit 1), s.m0) as m_after,
         s.v0 + s.seq as version
    from resolved s
  window w as (partition by s.rec order by s.seq)
),
checked as (
  select s.*,
         s.a_after - s.dq as a_before,
         s.r_after - s.r as r_before,
         coalesce(lag(s.m_after) over (partition by s.rec order by s.seq), s.m0) as m_before,
         ${withinStockSql({
           quantityChange: 's.dq',
           allowNegative: 's.allow_neg',
           availableAfter: 's.a_after',
           reservedAfter: 's.r_after',
         })} as within_stock
    from running s
),
${VERDICT_CTES}finals as (
  select b.*, c.a_after as a1, c.r_after as r1, c.m_after as m1, c.version as v1
    from base b
    join checked c on c.rec = b.rec and c.seq = (select max(e.seq) from ents e where e.rec = b.rec)
   where (select ok from go)
),
${WRITE_CTES}${extension.ctes}
${queuedCte(extension.events)},
leaving as (
  select f.found_id as inventory_id, (f.a0 + f.r0) - (f.a1 + f.r1) as quantity
    from finals f
   where f.found_id is not null and f.a0 + f.r0 > f.a1 + f.r1
),
shelf as (
  select b.batch_id, b.inventory_id, b.remaining, b.expires_at
    from inventory_batch b
   where b.inventory_id = any(array(select inventory_id from leaving)) and b.remaining > 0
   order by b.inventory_id, b.expires_at, b.batch_id
     for update
),
taken as (
  update inventory_batch b
     set remaining = b.remaining - least(s.remaining, s.quantity - s.ahead)
    from (select s.batch_id, s.remaining, l.quantity,
                 sum(s.remaining) over (partition by s.inventory_id order by s.expires_at, s.batch_id)
                   - s.remaining as ahead
            from shelf s join leaving l on l.inventory_id = s.inventory_id) s
   where b.batch_id = s.batch_id and s.ahead < s.quantity
  returning b.batch_id
)
${resultSql('(select count(*) from taken)', extension.result)}`;
}

export const BOOK_MOVEMENTS_SQL = bookMovementsSql();

/**
 * The common case alone: one record, one movement that takes nothing (`quantityChange` > 0 and nothing leaves
 * the record: an `in`, a return, a release). Same parameters, same result and the same rows and events as
 * BOOK_MOVEMENTS_SQL, without what such a movement never needs: the look on sight for a short record (only takes
 * are refused on it), running sums over several movements, and the batches stock leaves from. Its plan has a
 * third of the nodes, and PostgreSQL executes it in a fraction of the time (bench `statement`). (\`limit 1\`: the
 * planner takes a set-returning function for 100 rows and would update the record through a scan of the table.)
 */
export const BOOK_ONE_INCREASE_SQL = `
with ${INPUT_CTES}held as (
  select t.* from inventory_record t
   where t.inventory_id = any(array(select inventory_id from targets where inventory_id is not null))
     for update
),
${BASE_CTE}checked as (
  select e.*, b.inv_id, b.a0, b.r0, b.m0, b.v0, e.q as dq,
         b.a0 + e.q as a_after, b.r0 + e.r as r_after, coalesce(e.min_stock, b.m0) as m_after,
         b.v0 + e.seq as version, b.a0 as a_before, b.r0 as r_before, b.m0 as m_before,
         ${withinStockSql({
           quantityChange: 'e.q',
           allowNegative: 'e.allow_neg',
           availableAfter: 'b.a0 + e.q',
           reservedAfter: 'b.r0 + e.r',
         })} as within_stock
    from (select * from ents limit 1) e join base b on b.rec = e.rec
),
${VERDICT_CTES}finals as (
  select b.*, c.a_after as a1, c.r_after as r1, c.m_after as m1, c.version as v1
    from base b join checked c on c.rec = b.rec
   where (select ok from go)
),
${WRITE_CTES}${queuedCte(NO_EXTENSION.events)}
${resultSql('0')}`;
