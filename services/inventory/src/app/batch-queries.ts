import { DomainError, type ExpiringBatchesResponse, seesAllWarehouses } from '@inv/contracts';
import { assertWarehouseAccess, type Caller, decodePageCursor, keysetPage } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { DAY_MS, daysUntilExpiry } from '../domain/batch-expiry.js';
import { countExpiringBatches, pageOfExpiringBatches } from '../infra/db/batch-reads.js';
import type { BatchWithRecord } from '../infra/db/batches.js';
import { BatchRow } from '../infra/db/entities.js';
import { batchDto } from './batches.js';
import { type PageRequest, visibleRecord } from './queries.js';

/** One record's batches, soonest expiry first, keyset-paged by (expiresAt, batchId); used-up ones included. */
export async function recordBatches(
  em: EntityManager,
  caller: Pick<Caller, 'claims'>,
  inventoryId: string,
  page: PageRequest,
) {
  await visibleRecord(em, caller.claims, inventoryId);
  const after = decodePageCursor(page.after, ['s', 's']);
  const position = after
    ? { expiresAt: parseCursorDate(after[0] as string), batchId: after[1] as string }
    : undefined;
  const rows = await em.find(
    BatchRow,
    position
      ? {
          inventoryId,
          $or: [
            { expiresAt: { $gt: position.expiresAt } },
            { expiresAt: position.expiresAt, batchId: { $gt: position.batchId } },
          ],
        }
      : { inventoryId },
    { orderBy: { expiresAt: 'asc', batchId: 'asc' }, limit: page.limit + 1 },
  );
  return keysetPage(rows, page.limit, (b) => [b.expiresAt.toISOString(), b.batchId], batchDto);
}

/**
 * Batches that expire within `withinDays` (and have not expired yet), soonest first, one keyset page at a
 * time; `total` counts the whole window.
 */
export async function expiringBatches(
  em: EntityManager,
  caller: Pick<Caller, 'claims'>,
  query: PageRequest & { withinDays: number; warehouseId?: string },
  now: Date = new Date(),
): Promise<z.infer<typeof ExpiringBatchesResponse>> {
  if (query.warehouseId) assertWarehouseAccess(caller.claims, query.warehouseId);
  const after = decodePageCursor(query.after, ['s', 's']);
  const warehouses = query.warehouseId
    ? [query.warehouseId]
    : seesAllWarehouses(caller.claims)
      ? undefined
      : caller.claims.warehouses;
  const window = { from: now, to: new Date(now.getTime() + query.withinDays * DAY_MS), warehouses };
  const rows = await pageOfExpiringBatches(em, window, {
    limit: query.limit,
    after: after
      ? { expiresAt: parseCursorDate(after[0] as string), batchId: after[1] as string }
      : undefined,
  });
  const total = await countExpiringBatches(em, window);
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
    page: page.page,
  };
}

function parseCursorDate(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw new DomainError('VALIDATION_FAILED', 'after is not a cursor of this listing', undefined, 'after');
  }
  return date;
}

function expiringBatchDto(batch: BatchWithRecord, now: Date) {
  return {
    ...batchDto(batch),
    productId: batch.productId,
    warehouseId: batch.warehouseId,
    variantId: batch.variantId,
    uomId: batch.uomId,
    daysUntilExpiry: daysUntilExpiry(batch.expiresAt, now),
  };
}
