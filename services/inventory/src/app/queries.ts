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
import { type FilterQuery, raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { StockRecord } from '../domain/record.js';
import { deficitOf } from '../domain/stock.js';
import { InventoryRecordRow, MovementRow } from '../infra/db/entities.js';
import {
  countLowStock,
  pageOfLowStock,
  type WarehouseScope,
  warehouseScopeSql,
} from '../infra/db/record-reads.js';
import { findRecordById, recordOfRow } from '../infra/db/records.js';
import type { AggregateCache } from './aggregate-cache.js';
import { movementDto, recordDto } from './dto.js';

export interface PageRequest {
  limit: number;
  after?: string;
}

/** The records a caller may see: those of the warehouses in their claims. */
function visibleTo(claims: AccessClaims): FilterQuery<InventoryRecordRow> {
  if (seesAllWarehouses(claims)) return {};
  return { warehouseId: { $in: claims.warehouses } };
}

/** A record the caller may see, or NOT_FOUND / FORBIDDEN. */
export async function visibleRecord(
  em: EntityManager,
  claims: AccessClaims,
  inventoryId: string,
): Promise<StockRecord> {
  const record = await findRecordById(em, inventoryId);
  if (!record) throw new DomainError('NOT_FOUND', `no inventory record ${inventoryId}`, { inventoryId });
  assertWarehouseAccess(claims, record.warehouseId);
  return record;
}

export interface RecordFilter {
  warehouseId?: string;
  productId?: string;
}

/** Records in inventory id order (ids are time-ordered), one keyset page at a time. */
export async function listRecords(
  em: EntityManager,
  claims: AccessClaims,
  filter: RecordFilter,
  page: PageRequest,
): Promise<{ items: InventoryRecord[]; page: { limit: number; nextCursor: string | null } }> {
  if (filter.warehouseId) assertWarehouseAccess(claims, filter.warehouseId);
  const after = decodePageCursor(page.after, ['s']);
  const rows = await em.find(
    InventoryRecordRow,
    {
      ...visibleTo(claims),
      ...(filter.warehouseId ? { warehouseId: filter.warehouseId } : {}),
      ...(filter.productId ? { productId: filter.productId } : {}),
      ...(after ? { inventoryId: { $gt: after[0] as string } } : {}),
    },
    { orderBy: { inventoryId: 'asc' }, limit: page.limit + 1 },
  );
  return keysetPage(
    rows,
    page.limit,
    (row) => [row.inventoryId],
    (row) => recordDto(recordOfRow(row)),
  );
}

export type StockDimension = 'productId' | 'variantId' | 'uomId';

const COLUMN_OF: Record<StockDimension, string> = {
  productId: 'product_id',
  variantId: 'variant_id',
  uomId: 'uom_id',
};

/** The caller's warehouses as a SQL condition on `warehouse_id` with its parameters (none when all). */
function visibleWarehousesSql(claims: AccessClaims): { sql: string; params: string[] } {
  return warehouseScopeSql(seesAllWarehouses(claims) ? undefined : claims.warehouses);
}

interface WarehouseTotalsRow {
  warehouse_id: string;
  records: number;
  available: string;
  reserved: string;
  low: number;
}

/** Per-warehouse counts and sums of one dimension, computed by the database over every visible record. */
async function totalsByWarehouse(
  em: EntityManager,
  claims: AccessClaims,
  dimension: StockDimension,
  id: string,
): Promise<WarehouseStockSummary[]> {
  const visible = visibleWarehousesSql(claims);
  const rows = await em.execute<WarehouseTotalsRow[]>(
    `select warehouse_id, count(*)::int as records, sum(quantity_available) as available,
            sum(quantity_reserved) as reserved,
            count(*) filter (where minimum_stock > 0 and quantity_available < minimum_stock)::int as low
       from inventory_record
      where ${COLUMN_OF[dimension]} = ?${visible.sql}
      group by warehouse_id
      order by warehouse_id`,
    [id, ...visible.params],
  );
  return rows.map((row) => ({
    warehouseId: row.warehouse_id,
    records: row.records,
    totalAvailable: Number(row.available),
    totalReserved: Number(row.reserved),
    lowStockRecords: row.low,
  }));
}

/**
 * One product, variant or UOM across the warehouses the caller sees, in the original contract's shape:
 * `warehouses` is one keyset page (by warehouse, then id); the totals cover every visible record. With a
 * cache, totals over a large set may be up to its TTL old (`totalsAsOf` says when they were computed).
 */
export async function stockAcrossWarehouses(
  em: EntityManager,
  claims: AccessClaims,
  dimension: StockDimension,
  id: string,
  query: PageRequest & { groupBy?: 'warehouse' },
  totalsCache?: AggregateCache<WarehouseStockSummary[]>,
) {
  const after = decodePageCursor(query.after, ['s', 's']);
  // One after the other: a read holds one pooled connection at a time, which the read gate counts on.
  const rows = await em.find(
    InventoryRecordRow,
    {
      ...visibleTo(claims),
      [dimension]: id,
      ...(after
        ? { [raw((alias) => `(${alias}.warehouse_id, ${alias}.inventory_id) > (?, ?)`, [...after])]: [] }
        : {}),
    },
    { orderBy: { warehouseId: 'asc', inventoryId: 'asc' }, limit: query.limit + 1 },
  );
  const compute = () => totalsByWarehouse(em, claims, dimension, id);
  const scope = seesAllWarehouses(claims) ? '*' : [...claims.warehouses].sort().join(',');
  const { value: byWarehouse, at } = totalsCache
    ? await totalsCache.get(`${dimension}:${id}:${scope}`, compute, (rows) =>
        rows.reduce((sum, w) => sum + w.records, 0),
      )
    : { value: await compute(), at: new Date() };
  const page = keysetPage(
    rows,
    query.limit,
    (row) => [row.warehouseId, row.inventoryId],
    (row) => recordDto(recordOfRow(row)),
  );
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

/** The warehouses a read covers: the one asked for (if the caller may), else all the caller sees. */
function scopeOf(claims: AccessClaims, warehouseId: string | undefined): WarehouseScope {
  if (warehouseId) {
    assertWarehouseAccess(claims, warehouseId);
    return [warehouseId];
  }
  return seesAllWarehouses(claims) ? undefined : claims.warehouses;
}

/** Records below their minimum stock, the largest deficit first, one keyset page; `total` counts all of them. */
export async function lowStock(
  em: EntityManager,
  claims: AccessClaims,
  query: PageRequest & { warehouseId?: string },
  now: Date = new Date(),
): Promise<LowStockResponse> {
  const scope = scopeOf(claims, query.warehouseId);
  // The cursor is (available - minimum, id): the negated deficit, so one ascending order serves the index.
  const after = decodePageCursor(query.after, ['n', 's']) as [number, string] | null;
  const rows = await pageOfLowStock(em, scope, { after: after ?? undefined, limit: query.limit + 1 });
  const total = await countLowStock(em, scope);
  const page = keysetPage(
    rows,
    query.limit,
    (r) => [r.quantityAvailable - r.minimumStock, r.inventoryId],
    (r) => ({
      ...r,
      deficit: deficitOf({ available: r.quantityAvailable, reserved: 0, minimumStock: r.minimumStock }),
    }),
  );
  return { items: page.items, total, timestamp: now.toISOString(), page: page.page };
}

/** A record's ledger, newest movement first. */
export async function movementHistory(
  em: EntityManager,
  claims: AccessClaims,
  inventoryId: string,
  page: PageRequest,
): Promise<{ items: Movement[]; page: { limit: number; nextCursor: string | null } }> {
  await visibleRecord(em, claims, inventoryId);
  const after = decodePageCursor(page.after, ['n']);
  const rows = await em.find(
    MovementRow,
    { inventoryId, ...(after ? { movementId: { $lt: after[0] as number } } : {}) },
    { orderBy: { movementId: 'desc' }, limit: page.limit + 1 },
  );
  return keysetPage(rows, page.limit, (row) => [row.movementId], movementDto);
}
