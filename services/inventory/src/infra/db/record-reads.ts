import type { EntityManager } from '@mikro-orm/postgresql';

/** Which records a read covers: every warehouse (`undefined`) or only these. */
export type WarehouseScope = readonly string[] | undefined;

/** A condition on `warehouse_id` and its parameters; an empty scope matches nothing. */
export function warehouseScopeSql(scope: WarehouseScope): { sql: string; params: string[] } {
  if (scope === undefined) return { sql: '', params: [] };
  if (scope.length === 0) return { sql: ' and false', params: [] };
  return { sql: ` and warehouse_id in (${scope.map(() => '?').join(', ')})`, params: [...scope] };
}

const BELOW_MINIMUM = 'minimum_stock > 0 and quantity_available < minimum_stock';

export interface LowStockRow {
  inventoryId: string;
  productId: string;
  warehouseId: string;
  variantId: string | null;
  uomId: string | null;
  quantityAvailable: number;
  minimumStock: number;
  version: number;
}

interface RawLowStockRow {
  inventory_id: string;
  product_id: string;
  warehouse_id: string;
  variant_id: string | null;
  uom_id: string | null;
  quantity_available: string;
  minimum_stock: string;
  version: number;
}

/**
 * Records below their minimum, by (available - minimum, id): the largest deficit first, in the order of the
 * partial low-stock indexes, so a page reads `limit` index entries whatever the number of low records.
 */
export async function pageOfLowStock(
  em: EntityManager,
  scope: WarehouseScope,
  page: { after?: readonly [number, string]; limit: number },
): Promise<LowStockRow[]> {
  const where = warehouseScopeSql(scope);
  const after = page.after ? ' and (quantity_available - minimum_stock, inventory_id) > (?, ?)' : '';
  const rows = await em.execute<RawLowStockRow[]>(
    `select inventory_id, product_id, warehouse_id, variant_id, uom_id, quantity_available, minimum_stock, version
       from inventory_record
      where ${BELOW_MINIMUM}${where.sql}${after}
      order by quantity_available - minimum_stock, inventory_id
      limit ?`,
    [...where.params, ...(page.after ?? []), page.limit],
  );
  return rows.map((row) => ({
    inventoryId: row.inventory_id,
    productId: row.product_id,
    warehouseId: row.warehouse_id,
    variantId: row.variant_id,
    uomId: row.uom_id,
    quantityAvailable: Number(row.quantity_available),
    minimumStock: Number(row.minimum_stock),
    version: row.version,
  }));
}

export async function countLowStock(em: EntityManager, scope: WarehouseScope): Promise<number> {
  const where = warehouseScopeSql(scope);
  const rows = await em.execute<{ total: number }[]>(
    `select count(*)::int as total from inventory_record where ${BELOW_MINIMUM}${where.sql}`,
    where.params,
  );
  return rows[0]?.total ?? 0;
}
