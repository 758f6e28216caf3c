import { type DomainEvent, subjectOf } from '@inv/contracts';
import { OUTBOX_NOTIFY_CHANNEL } from '@inv/platform';
import type pg from 'pg';
import type { InventorySide, TransferState } from './transfers.js';

/** Every transfer last changed before `before`, with its lines (transfer service tables). */
export async function loadTransfers(db: pg.Client, before: Date): Promise<TransferState[]> {
  const { rows } = await db.query(
    `select t.transfer_id, t.source_warehouse_id, t.destination_warehouse_id, t.status, t.reservation_status,
            t.version, t.updated_at,
            coalesce(json_agg(json_build_object(
              'lineId', l.line_id, 'productId', l.product_id, 'variantId', l.variant_id, 'uomId', l.uom_id,
              'quantity', l.quantity, 'shippedQuantity', l.shipped_quantity, 'receivedQuantity', l.received_quantity,
              'discrepancy', case when l.received_quantity is null or l.shipped_quantity is null then null
                                  else l.shipped_quantity - l.received_quantity end)
              order by l.position) filter (where l.line_id is not null), '[]') as lines
       from transfer t left join transfer_line l on l.transfer_id = t.transfer_id
      where t.updated_at < $1
      group by t.transfer_id order by t.transfer_id`,
    [before],
  );
  return rows.map((r) => ({
    transferId: r.transfer_id,
    sourceWarehouseId: r.source_warehouse_id,
    destinationWarehouseId: r.destination_warehouse_id,
    status: r.status,
    reservationStatus: r.reservation_status,
    version: r.version,
    updatedAt: r.updated_at,
    lines: r.lines,
  }));
}

/** Per transfer: inventory's saga, reservations by status and the reserved units its movements still hold. */
export async function loadInventorySides(db: pg.Client): Promise<Map<string, InventorySide>> {
  const sides = new Map<string, InventorySide>();
  const side = (id: string) => {
    let s = sides.get(id);
    if (!s) {
      s = { saga: null, reservations: {}, reservedHeld: 0 };
      sides.set(id, s);
    }
    return s;
  };
  // One snapshot, so a saga step committing meanwhile is seen whole or not at all.
  await db.query('begin isolation level repeatable read read only');
  try {
    const sagas = await db.query('select transfer_id, state, transfer_version from transfer_saga');
    for (const r of sagas.rows)
      side(r.transfer_id).saga = { state: r.state, transferVersion: r.transfer_version };
    const reservations = await db.query(
      'select transfer_id, status, sum(quantity)::float8 as quantity from transfer_reservation group by 1, 2',
    );
    for (const r of reservations.rows) side(r.transfer_id).reservations[r.status] = r.quantity;
    const held = await db.query(
      `select transfer_id, sum(reserved_change)::float8 as held from inventory_movement
        where transfer_id is not null group by 1`,
    );
    for (const r of held.rows) side(r.transfer_id).reservedHeld = r.held;
  } finally {
    await db.query('commit');
  }
  return sides;
}

/**
 * Queues a catch-up event in the transfer service's outbox, as the service itself does (its relay publishes it
 * with the event id as message id). Returns false when the same event was queued before.
 */
export async function queueInTransferOutbox(db: pg.Client, event: DomainEvent): Promise<boolean> {
  const { rowCount } = await db.query(
    `insert into outbox (event_id, event_type, subject, order_key, payload) values ($1, $2, $3, $4, $5)
     on conflict (event_id) do nothing`,
    [event.id, event.type, subjectOf(event), `${event.aggregate.type}:${event.aggregate.id}`, event],
  );
  await db.query(`select pg_notify('${OUTBOX_NOTIFY_CHANNEL}', '')`);
  return rowCount === 1;
}
