import { DomainError, type ExpiringBatchesResponse, isStorableDate, seesAllWarehouses } from '@inv/contracts';
import { assertWarehouseAccess, type Caller, decodePageCursor, keysetPage } from '@inv/platform';
import type { z } from 'zod';
import { DAY_MS, daysUntilExpiry } from '../domain/batch-expiry.js';
import {
  type BatchPosition,
  countExpiringBatches,
  type ExpiringBatchView,
  pageOfExpiringBatches,
  pageOfRecordBatches,
} from '../infra/db/batch-reads.js';
import type { SqlClient } from '../infra/db/sql-client.js';
import { type AggregateCache, aggregateOf } from './aggregate-cache.js';
import { batchDto } from './batches.js';
import { type PageRequest, readRecord, scopeKey } from './queries.js';

/** One record's batches, soonest expiry first, keyset-paged by (expiresAt, batchId); used-up ones included. */
export async function recordBatches(
  db: SqlClient,
  caller: Pick<Caller, 'claims'>,
  inventoryId: string,
  page: PageRequest,
) {
  await readRecord(db, caller.claims, inventoryId);
  const rows = await pageOfRecordBatches(db, inventoryId, {
    after: positionOf(page.after),
    limit: page.limit + 1,
  });
  return keysetPage(rows, page.limit, (b) => [b.expiresAt.toISOString(), b.batchId], batchDto);
}

/**
 * Batches that expire within `withinDays` (and have not expired yet), soonest first, one keyset page at a
 * time; `total` counts the whole window. With a cache, a count over many batches (every warehouse of a large
 * catalogue: an index-only scan of the window) is kept like the low-stock count, and `totalsAsOf` says when it
 * was made; the page is always current.
 */
export async function expiringBatches(
  db: SqlClient,
  caller: Pick<Caller, 'claims'>,
  query: PageRequest & { withinDays: number; warehouseId?: string },
  totalsCache?: AggregateCache,
  now: Date = new Date(),
): Promise<z.infer<typeof ExpiringBatchesResponse>> {
  if (query.warehouseId) assertWarehouseAccess(caller.claims, query.warehouseId);
  const warehouses = query.warehouseId
    ? [query.warehouseId]
    : seesAllWarehouses(caller.claims)
      ? undefined
      : caller.claims.warehouses;
  const window = { from: now, to: new Date(now.getTime() + query.withinDays * DAY_MS), warehouses };
  // One after the other: a read holds one pooled connection at a time, which the read gate counts on.
  const rows = await pageOfExpiringBatches(db, window, {
    after: positionOf(query.after),
    limit: query.limit + 1,
  });
  const { value: total, at } = await aggregateOf(
    totalsCache,
    `expiring:${query.withinDays}:${scopeKey(warehouses)}`,
    () => countExpiringBatches(db, window),
    (count) => count,
    now,
  );
  const page = keysetPage(
    rows,
    query.limit,
    (b) => [b.expiresAt.toISOString(), b.batchId],
    (b) => expiringBatchDto(b, now),
  );
  return {
    items: page.items,
    total,
    withinDays: query.withinDays,
    timestamp: now.toISOString(),
    totalsAsOf: at.toISOString(),
    page: page.page,
  };
}

/** The (expiresAt, batchId) a batch cursor names. */
function positionOf(cursor: string | undefined): BatchPosition | undefined {
  const after = decodePageCursor(cursor, ['s', 's']);
  return after ? { expiresAt: parseCursorDate(after[0] as string), batchId: after[1] as string } : undefined;
}

function parseCursorDate(text: string): Date {
  const date = new Date(text);
  if (!isStorableDate(date)) {
    throw new DomainError('VALIDATION_FAILED', 'after is not a cursor of this listing', undefined, 'after');
  }
  return date;
}

function expiringBatchDto(batch: ExpiringBatchView, now: Date) {
  return Object.assign(batchDto(batch), {
    productId: batch.productId,
    warehouseId: batch.warehouseId,
    variantId: batch.variantId,
    uomId: batch.uomId,
    daysUntilExpiry: daysUntilExpiry(batch.expiresAt, now),
  });
}
