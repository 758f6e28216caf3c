import type { EntityManager } from '@mikro-orm/postgresql';
import { type ExpiringBatchView, type ExpiringColumns, expiringBatchOf } from './batch-reads.js';
import { BatchRow } from './entities.js';

export async function insertBatch(em: EntityManager, batch: BatchRow): Promise<void> {
  await em.insert(BatchRow, batch);
}

/** What a record's batches hold in all; read after the record's row is locked, so no taker runs beside it. */
export async function remainingInBatches(em: EntityManager, inventoryId: string): Promise<number> {
  const [row] = await em.execute<{ total: string }[]>(
    'select coalesce(sum(remaining), 0) as total from inventory_batch where inventory_id = ?',
    [inventoryId],
  );
  return Number(row?.total ?? 0);
}

/**
 * Takes `quantity` units out of a record's batches, first-expiring first; stock beyond what batches hold is
 * untracked and leaves nothing to take. Runs in the transaction that updated the record, whose row lock
 * serialises concurrent takers.
 */
export async function takeFromBatchesFirstExpiringFirst(
  em: EntityManager,
  inventoryId: string,
  quantity: number,
): Promise<void> {
  await em.execute(
    `with on_shelf as (
       select batch_id, remaining,
              sum(remaining) over (order by expires_at, batch_id) - remaining as ahead
         from inventory_batch
        where inventory_id = ? and remaining > 0
     )
     update inventory_batch b
        set remaining = b.remaining - least(s.remaining, ? - s.ahead)
       from on_shelf s
      where b.batch_id = s.batch_id and s.ahead < ?`,
    [inventoryId, quantity, quantity],
  );
}

/** A batch with the key and version of its record, and the expiry thresholds already announced for it. */
export interface BatchWithRecord extends ExpiringBatchView {
  recordVersion: number;
  notifiedThresholds: number[];
}

interface Row extends ExpiringColumns {
  version: number;
  notified: number[];
}

/** Batches expiring in `(from, to]`, soonest first; keyset-paged by (expires_at, batch_id) for the scanner. */
export async function findBatchesExpiringBetween(
  em: EntityManager,
  from: Date,
  to: Date,
  options: { after?: { expiresAt: Date; batchId: string }; limit: number },
): Promise<BatchWithRecord[]> {
  const params: unknown[] = [from, to];
  let filters = '';
  if (options.after) {
    params.push(options.after.expiresAt, options.after.batchId);
    filters += ' and (b.expires_at, b.batch_id) > (?, ?)';
  }
  params.push(options.limit);
  const rows = await em.execute<Row[]>(
    `select b.batch_id, b.inventory_id, b.batch_number, b.quantity, b.remaining, b.expires_at, b.created_at,
            r.product_id, r.warehouse_id, r.variant_id, r.uom_id, r.version,
            coalesce((select array_agg(n.threshold_days) from batch_expiry_notice n where n.batch_id = b.batch_id),
                     '{}') as notified
       from inventory_batch b join inventory_record r on r.inventory_id = b.inventory_id
      where b.remaining > 0 and b.expires_at > ? and b.expires_at <= ?${filters}
      order by b.expires_at, b.batch_id
      limit ?`,
    params,
  );
  return rows.map((row) =>
    Object.assign(expiringBatchOf(row), {
      recordVersion: row.version,
      notifiedThresholds: row.notified.map(Number),
    }),
  );
}

/**
 * Records that thresholds were reached; returns those this call recorded first. Several scanners racing on the
 * same batch each get a disjoint share, so every (batch, threshold) is announced once.
 */
export async function claimExpiryNotices(
  em: EntityManager,
  batchId: string,
  thresholds: number[],
): Promise<number[]> {
  const rows = await em.execute<{ threshold_days: number }[]>(
    `insert into batch_expiry_notice (batch_id, threshold_days)
       select ?, t::int from jsonb_array_elements_text(?::jsonb) as t
     on conflict do nothing
     returning threshold_days`,
    [batchId, JSON.stringify(thresholds)],
  );
  return rows.map((r) => r.threshold_days);
}

export async function recordNoticeEvent(
  em: EntityManager,
  batchId: string,
  thresholdDays: number,
  eventId: string,
): Promise<void> {
  await em.execute('update batch_expiry_notice set event_id = ? where batch_id = ? and threshold_days = ?', [
    eventId,
    batchId,
    thresholdDays,
  ]);
}
