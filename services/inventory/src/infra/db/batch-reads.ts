import type { EntityManager } from '@mikro-orm/postgresql';
import { type BatchWithRecord, findBatchesExpiringBetween } from './batches.js';

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
  // Parameters in the order they appear: the join's before the window's.
  const params: unknown[] = [];
  let join = '';
  if (window.warehouses) {
    // JSON, because the driver would spread a JS array into a list of parameters.
    params.push(JSON.stringify(window.warehouses));
    join = ` join inventory_record r on r.inventory_id = b.inventory_id
               and r.warehouse_id in (select jsonb_array_elements_text(?::jsonb))`;
  }
  const rows = await em.execute<{ total: number }[]>(
    `select count(*)::int as total
       from inventory_batch b${join}
      where b.remaining > 0 and b.expires_at > ? and b.expires_at <= ?`,
    [...params, window.from, window.to],
  );
  return rows[0]?.total ?? 0;
}
