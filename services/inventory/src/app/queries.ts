import {
  type AccessClaims,
  DomainError,
  type InventoryRecord,
  type LowStockResponse,
  type Movement,
  seesAllWarehouses,
} from '@inv/contracts';
import { assertWarehouseAccess, decodePageCursor, keysetPage } from '@inv/platform';
import { type FilterQuery, raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { recordRef, type StockRecord } from '../domain/record.js';
import { deficitOf, isLowStock } from '../domain/stock.js';
import { InventoryRecordRow, MovementRow } from '../infra/db/entities.js';
import { findRecordById, recordOfRow } from '../infra/db/records.js';
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

/** One product, variant or UOM across the warehouses the caller sees: the original contract's shape. */
export async function stockAcrossWarehouses(
  em: EntityManager,
  claims: AccessClaims,
  dimension: StockDimension,
  id: string,
) {
  const rows = await em.find(
    InventoryRecordRow,
    { ...visibleTo(claims), [dimension]: id },
    { orderBy: { warehouseId: 'asc', inventoryId: 'asc' } },
  );
  const records = rows.map(recordOfRow);
  return {
    [dimension]: id,
    warehouses: records.map(recordDto),
    totalAvailable: records.reduce((sum, r) => sum + r.levels.available, 0),
    totalReserved: records.reduce((sum, r) => sum + r.levels.reserved, 0),
    // Low as soon as one warehouse is below its minimum: that warehouse needs stock.
    isLowStock: records.some((r) => isLowStock(r.levels)),
  } as { [K in StockDimension]: string } & {
    warehouses: InventoryRecord[];
    totalAvailable: number;
    totalReserved: number;
    isLowStock: boolean;
  };
}

const BELOW_MINIMUM = raw(
  (alias) => `${alias}.minimum_stock > 0 and ${alias}.quantity_available < ${alias}.minimum_stock`,
);
const DEFICIT = raw((alias) => `${alias}.minimum_stock - ${alias}.quantity_available`);

/** Records below their minimum stock, the largest deficit first; `total` counts all of them. */
export async function lowStock(
  em: EntityManager,
  claims: AccessClaims,
  query: { warehouseId?: string; limit: number },
  now: Date = new Date(),
): Promise<LowStockResponse> {
  if (query.warehouseId) assertWarehouseAccess(claims, query.warehouseId);
  const where: FilterQuery<InventoryRecordRow> = {
    ...visibleTo(claims),
    ...(query.warehouseId ? { warehouseId: query.warehouseId } : {}),
    [BELOW_MINIMUM]: [],
  };
  const [rows, total] = await em.findAndCount(InventoryRecordRow, where, {
    orderBy: { [DEFICIT]: 'desc', inventoryId: 'asc' },
    limit: query.limit,
  });
  return {
    items: rows.map(recordOfRow).map((r) => ({
      ...recordRef(r),
      quantityAvailable: r.levels.available,
      minimumStock: r.levels.minimumStock,
      deficit: deficitOf(r.levels),
      version: r.version,
    })),
    total,
    timestamp: now.toISOString(),
  };
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
