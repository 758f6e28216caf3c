import type { StockRecord } from '../../domain/record.js';
import type { MovementRow } from './entities.js';
import { type MovementJson, movementOfJson, type RecordJson, recordOfJson } from './movements.js';
import type { SqlClient } from './sql-client.js';

/** Which records a read covers: every warehouse (`undefined`) or only these. */
export type WarehouseScope = readonly string[] | undefined;

/** A condition on `warehouse_id` and its parameters, knex style (`?`); an empty scope matches nothing. */
export function warehouseScopeSql(scope: WarehouseScope): { sql: string; params: string[] } {
  if (scope === undefined) return { sql: '', params: [] };
  if (scope.length === 0) return { sql: ' and false', params: [] };
  return { sql: ` and warehouse_id in (${scope.map(() => '?').join(', ')})`, params: [...scope] };
}

/** Statement names by shape: PostgreSQL keeps 63 bytes of a name, so a shape gets a short one of its own. */
const namesOfShapes = new Map<string, string>();

function nameOf(shape: string): string {
  let name = namesOfShapes.get(shape);
  if (!name) {
    name = `inv-read-${namesOfShapes.size + 1}`;
    namesOfShapes.set(shape, name);
  }
  return name;
}

/**
 * A statement's text, name and values built condition by condition with `$n` parameters. One text per shape
 * of the conditions (a scope is one warehouse or one array parameter, whatever its size), so a named statement is prepared once
 * per connection and shape.
 */
export class Statement {
  private readonly conditions: string[] = [];
  private readonly values: unknown[] = [];
  private limitSql = '';

  constructor(private readonly select: string) {}

  /** Adds `condition`, in which each `$` stands for the next parameter. */
  where(condition: string, ...values: unknown[]): this {
    let n = this.values.length;
    this.conditions.push(condition.replace(/\$/g, () => `$${++n}`));
    this.values.push(...values);
    return this;
  }

  /** The caller's warehouses; none named matches nothing. */
  scope(scope: WarehouseScope): this {
    if (scope === undefined) return this;
    if (scope.length === 0) return this.where('false');
    // One warehouse as an equality: a prepared statement's generic plan can then walk the (warehouse_id, …)
    // indexes in order; with `= any($)` it sorted every match (low stock of one warehouse: p99 90 → 328 ms).
    if (scope.length === 1) return this.where('warehouse_id = $', scope[0]);
    return this.where('warehouse_id = any($::text[])', [...scope]);
  }

  limit(rows: number): this {
    this.values.push(rows);
    this.limitSql = ` limit $${this.values.length}`;
    return this;
  }

  /** Runs it, named unless `named` is false (see ormPoolReadClient on which statements may be named). */
  run<T>(db: SqlClient, tail = '', named = true): Promise<T[]> {
    const where = this.conditions.length ? ` where ${this.conditions.join(' and ')}` : '';
    const text = `${this.select}${where} ${tail}${this.limitSql}`;
    return db.query<T>(text, this.values, named ? nameOf(text) : undefined);
  }
}

const RECORD_COLUMNS = `select inventory_id, product_id, warehouse_id, variant_id, uom_id, quantity_available,
  quantity_reserved, minimum_stock, rack, bin, zone, aisle, version, updated_at from inventory_record`;

export async function readRecordById(db: SqlClient, inventoryId: string): Promise<StockRecord | null> {
  const rows = await db.query<RecordJson>(
    `${RECORD_COLUMNS} where inventory_id = $1`,
    [inventoryId],
    'record-by-id',
  );
  return rows[0] ? recordOfJson(rows[0]) : null;
}

/** Records in inventory id order, `limit` of them after `after`, optionally of one warehouse and/or product. */
export async function pageOfRecords(
  db: SqlClient,
  scope: WarehouseScope,
  filter: { warehouseId?: string; productId?: string },
  page: { after?: string; limit: number },
): Promise<StockRecord[]> {
  const statement = new Statement(RECORD_COLUMNS).scope(scope);
  if (filter.warehouseId) statement.where('warehouse_id = $', filter.warehouseId);
  if (filter.productId) statement.where('product_id = $', filter.productId);
  if (page.after !== undefined) statement.where('inventory_id > $', page.after);
  const rows = await statement.limit(page.limit).run<RecordJson>(db, 'order by inventory_id');
  return rows.map(recordOfJson);
}

export type StockColumn = 'product_id' | 'variant_id' | 'uom_id';

/** Records of one product, variant or UOM by (warehouse, id), `limit` of them after `after`. */
export async function pageOfRecordsWith(
  db: SqlClient,
  scope: WarehouseScope,
  column: StockColumn,
  id: string,
  page: { after?: readonly [string, string]; limit: number },
): Promise<StockRecord[]> {
  const statement = new Statement(RECORD_COLUMNS).where(`${column} = $`, id).scope(scope);
  if (page.after) statement.where('(warehouse_id, inventory_id) > ($, $)', ...page.after);
  const rows = await statement.limit(page.limit).run<RecordJson>(db, 'order by warehouse_id, inventory_id');
  return rows.map(recordOfJson);
}

export interface WarehouseTotalsRow {
  warehouse_id: string;
  records: number;
  available: string;
  reserved: string;
  low: number;
}

/**
 * Per-warehouse counts and sums of one product, variant or UOM over every record in scope. Not named: the
 * right plan depends on how many records the value has (a product: its index; a unit: a scan).
 */
export function totalsOfRecordsWith(
  db: SqlClient,
  scope: WarehouseScope,
  column: StockColumn,
  id: string,
): Promise<WarehouseTotalsRow[]> {
  return new Statement(
    `select warehouse_id, count(*)::int as records, sum(quantity_available) as available,
            sum(quantity_reserved) as reserved, count(*) filter (where ${BELOW_MINIMUM})::int as low
       from inventory_record`,
  )
    .where(`${column} = $`, id)
    .scope(scope)
    .run<WarehouseTotalsRow>(db, 'group by warehouse_id order by warehouse_id', false);
}

/** A record's ledger, newest first, `limit` movements before `before`. */
export async function pageOfMovements(
  db: SqlClient,
  inventoryId: string,
  page: { before?: number; limit: number },
): Promise<MovementRow[]> {
  const statement = new Statement('select * from inventory_movement').where('inventory_id = $', inventoryId);
  if (page.before !== undefined) statement.where('movement_id < $', page.before);
  const rows = await statement.limit(page.limit).run<MovementJson>(db, 'order by movement_id desc');
  return rows.map(movementOfJson);
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
  db: SqlClient,
  scope: WarehouseScope,
  page: { after?: readonly [number, string]; limit: number },
): Promise<LowStockRow[]> {
  const statement = new Statement(
    `select inventory_id, product_id, warehouse_id, variant_id, uom_id, quantity_available, minimum_stock, version
       from inventory_record`,
  )
    .where(BELOW_MINIMUM)
    .scope(scope);
  if (page.after)
    statement.where('(quantity_available - minimum_stock, inventory_id) > ($, $)', ...page.after);
  const rows = await statement
    .limit(page.limit)
    .run<RawLowStockRow>(db, 'order by quantity_available - minimum_stock, inventory_id');
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

/** How many records in scope are below their minimum (an index-only count of the partial index). */
export async function countLowStock(db: SqlClient, scope: WarehouseScope): Promise<number> {
  const rows = await new Statement('select count(*)::int as total from inventory_record')
    .where(BELOW_MINIMUM)
    .scope(scope)
    .run<{ total: number }>(db);
  return rows[0]?.total ?? 0;
}
