import type { EntityManager } from '@mikro-orm/postgresql';
import { type BatchWithRecord, findBatchesExpiringBetween } from './batches.js';
import { warehouseScopeSql } from './record-reads.js';

/** Batches with goods left that expire in `(from, to]`, optionally only in some warehouses. */
export interface ExpiringWindow {
  from: Date;
  to: Date;
  warehouses?: string[];
}

/** One keyset page (expires_at, batch_id) of the window; fetches `limit + 1` so the caller sees if more follow. */
export function pageOfExpiringBatches(
  em: EntityManager,
  window: ExpiringWindow,
  page: { after?: { expiresAt: Date; batchId: string }; limit: number },
): Promise<BatchWithRecord[]> {
  return findBatchesExpiringBetween(em, window.from, window.to, {
    warehouses: window.warehouses,
    after: page.after,
    limit: page.limit + 1,
  });
}

/** How many batches the whole window holds, counted by the database. */
export async function countExpiringBatches(em: EntityManager, window: ExpiringWindow): Promise<number> {
  // The warehouses as a plain IN list: the planner then looks each batch's record up by its key instead of
  // hashing the whole record table.
  const scope = warehouseScopeSql(window.warehouses);
  const join = window.warehouses
    ? ` join inventory_record r on r.inventory_id = b.inventory_id${scope.sql.replaceAll('warehouse_id', 'r.warehouse_id')}`
    : '';
  const rows = await em.execute<{ total: number }[]>(
    `select count(*)::int as total
       from inventory_batch b${join}
      where b.remaining > 0 and b.expires_at > ? and b.expires_at <= ?`,
    [...scope.params, window.from, window.to],
  );
  return rows[0]?.total ?? 0;
}
