import {
  type AccessClaims,
  DomainError,
  type InventoryRecord,
  type LowStockResponse,
  type Movement,
  seesAllWarehouses,
  type WarehouseStockSummary,
} from '@inv/contracts';
import { assertWarehouseAccess, decodePageCursor, keysetPage } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { StockRecord } from '../domain/record.js';
import { deficitOf, isLowStock } from '../domain/stock.js';
import {
  countLowStock,
  pageOfLowStock,
  pageOfMovements,
  pageOfRecords,
  pageOfRecordsWith,
  readRecordById,
  type StockColumn,
  totalsOfRecordsWith,
  type WarehouseScope,
} from '../infra/db/record-reads.js';
import { findRecordById } from '../infra/db/records.js';
import type { SqlClient } from '../infra/db/sql-client.js';
import { type AggregateCache, aggregateOf } from './aggregate-cache.js';
import { movementDto, recordDto } from './dto.js';

export interface PageRequest {
  limit: number;
  after?: string;
}

/** The record, if it exists and the caller may see it; else NOT_FOUND / FORBIDDEN. */
function visible(record: StockRecord | null, claims: AccessClaims, inventoryId: string): StockRecord {
  if (!record) throw new DomainError('NOT_FOUND', `no inventory record ${inventoryId}`, { inventoryId });
  assertWarehouseAccess(claims, record.warehouseId);
  return record;
}

/** A record the caller may see, read in the entity manager's transaction (commands), or NOT_FOUND / FORBIDDEN. */
export async function visibleRecord(
  em: EntityManager,
  claims: AccessClaims,
  inventoryId: string,
): Promise<StockRecord> {
  return visible(await findRecordById(em, inventoryId), claims, inventoryId);
}

export interface RecordFilter {
  warehouseId?: string;
  productId?: string;
}

/** The warehouses a read covers: the one asked for (if the caller may), else all the caller sees. */
function scopeOf(claims: AccessClaims, warehouseId?: string): WarehouseScope {
  if (warehouseId) {
    assertWarehouseAccess(claims, warehouseId);
    return [warehouseId];
  }
  return seesAllWarehouses(claims) ? undefined : claims.warehouses;
}

/** One record for `GET /api/inventory/:id`: NOT_FOUND, FORBIDDEN, or the record. */
export async function readRecord(db: SqlClient, claims: AccessClaims, inventoryId: string) {
  return visible(await readRecordById(db, inventoryId), claims, inventoryId);
}

/** Records in inventory id order (ids are time-ordered), one keyset page at a time. */
export async function listRecords(
  db: SqlClient,
  claims: AccessClaims,
  filter: RecordFilter,
  page: PageRequest,
): Promise<{ items: InventoryRecord[]; page: { limit: number; nextCursor: string | null } }> {
  const scope = scopeOf(claims, filter.warehouseId);
  const after = decodePageCursor(page.after, ['s']);
  const rows = await pageOfRecords(db, filter.warehouseId ? undefined : scope, filter, {
    after: after?.[0] as string | undefined,
    limit: page.limit + 1,
  });
  return keysetPage(rows, page.limit, (row) => [row.inventoryId], recordDto);
}

export type StockDimension = 'productId' | 'variantId' | 'uomId';

const COLUMN_OF: Record<StockDimension, StockColumn> = {
  productId: 'product_id',
  variantId: 'variant_id',
  uomId: 'uom_id',
};

/** The cache key of an aggregate over the caller's warehouses. */
export function scopeKey(scope: WarehouseScope): string {
  return scope === undefined ? '*' : [...scope].sort().join(',');
}

/** Per-warehouse counts and sums of one dimension, computed by the database over every visible record. */
async function totalsByWarehouse(
  db: SqlClient,
  scope: WarehouseScope,
  dimension: StockDimension,
  id: string,
): Promise<WarehouseStockSummary[]> {
  const rows = await totalsOfRecordsWith(db, scope, COLUMN_OF[dimension], id);
  return rows.map((row) => ({
    warehouseId: row.warehouse_id,
    records: row.records,
    totalAvailable: Number(row.available),
    totalReserved: Number(row.reserved),
    lowStockRecords: row.low,
  }));
}

/**
 * Per-warehouse counts and sums of records ordered by warehouse (a page of `pageOfRecordsWith`), as
 * `totalsByWarehouse` computes them in the database.
 */
function totalsOfRecords(records: readonly StockRecord[]): WarehouseStockSummary[] {
  const byWarehouse: WarehouseStockSummary[] = [];
  for (const { warehouseId, levels } of records) {
    let summary = byWarehouse.at(-1);
    if (summary?.warehouseId !== warehouseId) {
      summary = { warehouseId, records: 0, totalAvailable: 0, totalReserved: 0, lowStockRecords: 0 };
      byWarehouse.push(summary);
    }
    summary.records += 1;
    summary.totalAvailable += levels.available;
    summary.totalReserved += levels.reserved;
    if (isLowStock(levels)) summary.lowStockRecords += 1;
  }
  return byWarehouse;
}

/**
 * One product, variant or UOM across the warehouses the caller sees, in the original contract's shape:
 * `warehouses` is one keyset page (by warehouse, then id); the totals cover every visible record. A first page
 * that holds every record (a product's or variant's few, one per warehouse and unit) gives the totals itself,
 * from the same snapshot, without a second statement; else they come from the database, and with a cache,
 * totals over a large set may be up to its TTL old (`totalsAsOf` says when they were computed).
 */
export async function stockAcrossWarehouses(
  db: SqlClient,
  claims: AccessClaims,
  dimension: StockDimension,
  id: string,
  query: PageRequest & { groupBy?: 'warehouse' },
  totalsCache?: AggregateCache,
  now: Date = new Date(),
) {
  const after = decodePageCursor(query.after, ['s', 's']) as [string, string] | null;
  const scope = scopeOf(claims);
  // One after the other: a read holds one pooled connection at a time, which the read gate counts on.
  const rows = await pageOfRecordsWith(db, scope, COLUMN_OF[dimension], id, {
    after: after ?? undefined,
    limit: query.limit + 1,
  });
  const everyRecord = after === null && rows.length <= query.limit;
  const { value: byWarehouse, at } = everyRecord
    ? { value: totalsOfRecords(rows), at: now }
    : await aggregateOf(
        totalsCache,
        `${dimension}:${id}:${scopeKey(scope)}`,
        () => totalsByWarehouse(db, scope, dimension, id),
        (rows) => rows.reduce((sum, w) => sum + w.records, 0),
      );
  const page = keysetPage(rows, query.limit, (row) => [row.warehouseId, row.inventoryId], recordDto);
  return {
    [dimension]: id,
    warehouses: page.items,
    totalAvailable: byWarehouse.reduce((sum, w) => sum + w.totalAvailable, 0),
    totalReserved: byWarehouse.reduce((sum, w) => sum + w.totalReserved, 0),
    // Low as soon as one warehouse is below its minimum: that warehouse needs stock.
    isLowStock: byWarehouse.some((w) => w.lowStockRecords > 0),
    total: byWarehouse.reduce((sum, w) => sum + w.records, 0),
    page: page.page,
    totalsAsOf: at.toISOString(),
    ...(query.groupBy === 'warehouse' ? { byWarehouse } : {}),
  } as { [K in StockDimension]: string } & {
    warehouses: InventoryRecord[];
    totalAvailable: number;
    totalReserved: number;
    isLowStock: boolean;
    total: number;
    page: { limit: number; nextCursor: string | null };
    totalsAsOf: string;
    byWarehouse?: WarehouseStockSummary[];
  };
}

/**
 * Records below their minimum stock, the largest deficit first, one keyset page; `total` counts all of them.
 * With a cache, a count over many records (all warehouses of a large catalogue: an index-only scan of every
 * low record) is kept like the totals above, and `totalsAsOf` says when it was made; the page is always current.
 */
export async function lowStock(
  db: SqlClient,
  claims: AccessClaims,
  query: PageRequest & { warehouseId?: string },
  totalsCache?: AggregateCache,
  now: Date = new Date(),
): Promise<LowStockResponse> {
  const scope = scopeOf(claims, query.warehouseId);
  // The cursor is (available - minimum, id): the negated deficit, so one ascending order serves the index.
  const after = decodePageCursor(query.after, ['n', 's']) as [number, string] | null;
  const rows = await pageOfLowStock(db, scope, { after: after ?? undefined, limit: query.limit + 1 });
  const { value: total, at } = await aggregateOf(
    totalsCache,
    `low-stock:${scopeKey(scope)}`,
    () => countLowStock(db, scope),
    (count) => count,
    now,
  );
  const page = keysetPage(
    rows,
    query.limit,
    (r) => [r.quantityAvailable - r.minimumStock, r.inventoryId],
    (r) => ({
      inventoryId: r.inventoryId,
      productId: r.productId,
      warehouseId: r.warehouseId,
      variantId: r.variantId,
      uomId: r.uomId,
      quantityAvailable: r.quantityAvailable,
      minimumStock: r.minimumStock,
      deficit: deficitOf({ available: r.quantityAvailable, reserved: 0, minimumStock: r.minimumStock }),
      version: r.version,
    }),
  );
  return {
    items: page.items,
    total,
    timestamp: now.toISOString(),
    totalsAsOf: at.toISOString(),
    page: page.page,
  };
}

/** A record's ledger, newest movement first. */
export async function movementHistory(
  db: SqlClient,
  claims: AccessClaims,
  inventoryId: string,
  page: PageRequest,
): Promise<{ items: Movement[]; page: { limit: number; nextCursor: string | null } }> {
  await readRecord(db, claims, inventoryId);
  const after = decodePageCursor(page.after, ['n']);
  const rows = await pageOfMovements(db, inventoryId, {
    before: after?.[0] as number | undefined,
    limit: page.limit + 1,
  });
  return keysetPage(rows, page.limit, (row) => [row.movementId], movementDto);
}
