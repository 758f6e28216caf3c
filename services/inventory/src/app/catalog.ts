import {
  type AccessClaims,
  type ProductSummary,
  seesAllWarehouses,
  type WarehouseSummary,
} from '@inv/contracts';
import { decodePageCursor, keysetPage } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';

export interface CatalogRequest {
  limit: number;
  after?: string;
  q?: string;
}

type Page<T> = { items: T[]; page: { limit: number; nextCursor: string | null } };

/**
 * The conditions every summary shares: only warehouses in the caller's claims, ids after the cursor and
 * starting with `q`. Returns the SQL and its parameters, numbered from $1.
 */
function conditions(claims: AccessClaims, key: 'warehouse_id' | 'product_id', request: CatalogRequest) {
  const where: string[] = [];
  const params: unknown[] = [];
  if (!seesAllWarehouses(claims)) {
    // knex expands an array binding into `?, ?, …`; an empty claim list matches nothing.
    params.push(claims.warehouses.length ? claims.warehouses : [null]);
    where.push('warehouse_id in (?)');
  }
  const after = decodePageCursor(request.after, ['s']);
  if (after) {
    params.push(after[0]);
    where.push(`${key} > ?`);
  }
  if (request.q) {
    params.push(`${request.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`${key} like ?`);
  }
  return { sql: where.length ? `where ${where.join(' and ')}` : '', params };
}

const int = (value: unknown) => Number(value ?? 0);

/** Warehouses with their counts, aggregated in one grouped query, in id order. */
export async function listWarehouses(
  em: EntityManager,
  claims: AccessClaims,
  request: CatalogRequest,
): Promise<Page<WarehouseSummary>> {
  const { sql, params } = conditions(claims, 'warehouse_id', request);
  const rows = await em.getConnection().execute<Record<string, unknown>[]>(
    `select warehouse_id, count(*) as records, count(distinct product_id) as products,
            coalesce(sum(quantity_available), 0) as total_available,
            coalesce(sum(quantity_reserved), 0) as total_reserved,
            count(*) filter (where minimum_stock > 0 and quantity_available < minimum_stock) as low_stock,
            count(*) filter (where quantity_available <= 0) as out_of_stock
       from inventory_record ${sql}
      group by warehouse_id order by warehouse_id limit ?`,
    [...params, request.limit + 1],
  );
  return keysetPage(
    rows,
    request.limit,
    (row) => [String(row.warehouse_id)],
    (row) => ({
      warehouseId: String(row.warehouse_id),
      records: int(row.records),
      products: int(row.products),
      totalAvailable: int(row.total_available),
      totalReserved: int(row.total_reserved),
      lowStock: int(row.low_stock),
      outOfStock: int(row.out_of_stock),
    }),
  );
}

/** Products over the warehouses the caller sees, aggregated in one grouped query, in id order. */
export async function listProducts(
  em: EntityManager,
  claims: AccessClaims,
  request: CatalogRequest,
): Promise<Page<ProductSummary>> {
  const { sql, params } = conditions(claims, 'product_id', request);
  const rows = await em.getConnection().execute<Record<string, unknown>[]>(
    `select product_id, count(*) as records, count(distinct warehouse_id) as warehouses,
            count(distinct variant_id) as variants,
            coalesce(sum(quantity_available), 0) as total_available,
            coalesce(sum(quantity_reserved), 0) as total_reserved
       from inventory_record ${sql}
      group by product_id order by product_id limit ?`,
    [...params, request.limit + 1],
  );
  return keysetPage(
    rows,
    request.limit,
    (row) => [String(row.product_id)],
    (row) => ({
      productId: String(row.product_id),
      records: int(row.records),
      warehouses: int(row.warehouses),
      variants: int(row.variants),
      totalAvailable: int(row.total_available),
      totalReserved: int(row.total_reserved),
    }),
  );
}
