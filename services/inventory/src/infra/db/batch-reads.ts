import { Statement, type WarehouseScope } from './record-reads.js';
import type { SqlClient } from './sql-client.js';

/** Batches with goods left that expire in `(from, to]`, optionally only in some warehouses. */
export interface ExpiringWindow {
  from: Date;
  to: Date;
  warehouses?: WarehouseScope;
}

/** A batch as the reads show it. */
export interface BatchView {
  batchId: string;
  inventoryId: string;
  batchNumber: string;
  quantity: number;
  remaining: number;
  expiresAt: Date;
  createdAt: Date;
}

/** An expiring batch with the keys of its record. */
export interface ExpiringBatchView extends BatchView {
  productId: string;
  warehouseId: string;
  variantId: string | null;
  uomId: string | null;
}

export interface BatchColumns {
  batch_id: string;
  inventory_id: string;
  batch_number: string;
  quantity: string;
  remaining: string;
  // `pg` parses timestamptz; a connection of the ORM's pool may leave it as text.
  expires_at: string | Date;
  created_at: string | Date;
}

export interface ExpiringColumns extends BatchColumns {
  product_id: string;
  warehouse_id: string;
  variant_id: string | null;
  uom_id: string | null;
}

const BATCH_COLUMNS =
  'b.batch_id, b.inventory_id, b.batch_number, b.quantity, b.remaining, b.expires_at, b.created_at';

/** Where a keyset page of batches starts: after this (expires_at, batch_id). */
export interface BatchPosition {
  expiresAt: Date;
  batchId: string;
}

/** A batch of its columns; wider views add their fields with Object.assign (a spread copy cost more in the profiles). */
export function batchOf(row: BatchColumns): BatchView {
  return {
    batchId: row.batch_id,
    inventoryId: row.inventory_id,
    batchNumber: row.batch_number,
    quantity: Number(row.quantity),
    remaining: Number(row.remaining),
    expiresAt: new Date(row.expires_at),
    createdAt: new Date(row.created_at),
  };
}

/** An expiring batch of its columns. */
export function expiringBatchOf(row: ExpiringColumns): ExpiringBatchView {
  return Object.assign(batchOf(row), {
    productId: row.product_id,
    warehouseId: row.warehouse_id,
    variantId: row.variant_id,
    uomId: row.uom_id,
  });
}

/** One record's batches (used-up ones too) by (expires_at, batch_id), `limit` of them after `after`. */
export async function pageOfRecordBatches(
  db: SqlClient,
  inventoryId: string,
  page: { after?: BatchPosition; limit: number },
): Promise<BatchView[]> {
  const statement = new Statement(`select ${BATCH_COLUMNS} from inventory_batch b`).where(
    'b.inventory_id = $',
    inventoryId,
  );
  if (page.after)
    statement.where('(b.expires_at, b.batch_id) > ($, $)', page.after.expiresAt, page.after.batchId);
  const rows = await statement.limit(page.limit).run<BatchColumns>(db, 'order by b.expires_at, b.batch_id');
  return rows.map(batchOf);
}

/**
 * The window's batches by (expires_at, batch_id), `limit` of them after `after`: a walk of the partial
 * expiring index with each batch's record looked up by its key (without the scanner's notice lookups).
 */
export async function pageOfExpiringBatches(
  db: SqlClient,
  window: ExpiringWindow,
  page: { after?: BatchPosition; limit: number },
): Promise<ExpiringBatchView[]> {
  const statement = inWindow(
    `select ${BATCH_COLUMNS}, r.product_id, r.warehouse_id, r.variant_id, r.uom_id
       from inventory_batch b join inventory_record r on r.inventory_id = b.inventory_id`,
    window,
  );
  if (page.after)
    statement.where('(b.expires_at, b.batch_id) > ($, $)', page.after.expiresAt, page.after.batchId);
  const rows = await statement
    .limit(page.limit)
    .run<ExpiringColumns>(db, 'order by b.expires_at, b.batch_id');
  return rows.map(expiringBatchOf);
}

/**
 * How many batches the whole window holds, counted by the database. Over every warehouse it is an index-only
 * count of the partial expiring index (named); scoped, the plan depends on the warehouses (a plain lookup of
 * each batch's record, or a join), so it is planned with the values.
 */
export async function countExpiringBatches(db: SqlClient, window: ExpiringWindow): Promise<number> {
  const join = window.warehouses ? ' join inventory_record r on r.inventory_id = b.inventory_id' : '';
  const rows = await inWindow(`select count(*)::int as total from inventory_batch b${join}`, window).run<{
    total: number;
  }>(db, '', window.warehouses === undefined);
  return rows[0]?.total ?? 0;
}

function inWindow(select: string, window: ExpiringWindow): Statement {
  return new Statement(select)
    .where('b.remaining > 0')
    .where('b.expires_at > $', window.from)
    .where('b.expires_at <= $', window.to)
    .scope(window.warehouses);
}
