import type pg from 'pg';
import { catalogueIds } from './loader.js';

/**
 * The SQL the inventory service's reads send (services/inventory/src/app/queries.ts, batch-queries.ts and
 * infra/db/*-reads.ts), written out with a catalogue's ids so its plans can be checked with EXPLAIN.
 */
export function readStatements(warehouses: number): { name: string; sql: string; params: unknown[] }[] {
  const ids = catalogueIds('cat');
  const mid = ids.record(1500, 1);
  const page = 51;
  const totals = (column: string) =>
    `select warehouse_id, count(*)::int, sum(quantity_available), sum(quantity_reserved),
            count(*) filter (where minimum_stock > 0 and quantity_available < minimum_stock)::int
       from inventory_record where ${column} = $1 group by warehouse_id order by warehouse_id`;
  const across = (column: string) =>
    `select * from inventory_record where ${column} = $1 order by warehouse_id, inventory_id limit ${page}`;
  const acrossAfter = (column: string) =>
    `select * from inventory_record where ${column} = $1 and (warehouse_id, inventory_id) > ($2, $3)
      order by warehouse_id, inventory_id limit ${page}`;
  const low = 'minimum_stock > 0 and quantity_available < minimum_stock';
  const lastWarehouse = ids.warehouse(warehouses - 1);
  return [
    { name: 'record', sql: 'select * from inventory_record where inventory_id = $1', params: [mid] },
    {
      name: 'movements (page)',
      sql: `select * from inventory_movement where inventory_id = $1 order by movement_id desc limit ${page}`,
      params: [mid],
    },
    {
      name: 'list (page)',
      sql: `select * from inventory_record order by inventory_id limit ${page}`,
      params: [],
    },
    {
      name: 'list, later page',
      sql: `select * from inventory_record where inventory_id > $1 order by inventory_id limit ${page}`,
      params: [mid],
    },
    {
      name: 'list?productId',
      sql: `select * from inventory_record where product_id = $1 order by inventory_id limit ${page}`,
      params: [ids.product(500)],
    },
    {
      name: 'warehouse (page)',
      sql: `select * from inventory_record where warehouse_id = $1 and inventory_id > $2 order by inventory_id limit ${page}`,
      params: [lastWarehouse, mid],
    },
    { name: 'product (page)', sql: across('product_id'), params: [ids.product(500)] },
    { name: 'product (totals)', sql: totals('product_id'), params: [ids.product(500)] },
    { name: 'variant (page)', sql: across('variant_id'), params: [ids.variant(1500)] },
    { name: 'variant (totals)', sql: totals('variant_id'), params: [ids.variant(1500)] },
    { name: 'uom (page)', sql: across('uom_id'), params: ['each'] },
    { name: 'uom, later page', sql: acrossAfter('uom_id'), params: ['each', lastWarehouse, mid] },
    { name: 'uom (totals, half the catalogue)', sql: totals('uom_id'), params: ['each'] },
    {
      name: 'low-stock (page)',
      sql: `select * from inventory_record where ${low} order by quantity_available - minimum_stock, inventory_id limit ${page}`,
      params: [],
    },
    {
      name: 'low-stock, later page',
      sql: `select * from inventory_record where ${low} and (quantity_available - minimum_stock, inventory_id) > ($1, $2)
             order by quantity_available - minimum_stock, inventory_id limit ${page}`,
      params: [-3, mid],
    },
    { name: 'low-stock (count)', sql: `select count(*) from inventory_record where ${low}`, params: [] },
    {
      name: 'low-stock?warehouseId (page)',
      sql: `select * from inventory_record where ${low} and warehouse_id in ($1)
             order by quantity_available - minimum_stock, inventory_id limit ${page}`,
      params: [lastWarehouse],
    },
    {
      name: 'low-stock?warehouseId (count)',
      sql: `select count(*) from inventory_record where ${low} and warehouse_id in ($1)`,
      params: [lastWarehouse],
    },
    {
      name: 'batches/expiring (page)',
      sql: `select b.*, r.product_id, r.warehouse_id, r.version,
                   coalesce((select array_agg(n.threshold_days) from batch_expiry_notice n where n.batch_id = b.batch_id), '{}')
              from inventory_batch b join inventory_record r on r.inventory_id = b.inventory_id
             where b.remaining > 0 and b.expires_at > now() and b.expires_at <= now() + interval '30 days'
             order by b.expires_at, b.batch_id limit ${page}`,
      params: [],
    },
    {
      name: 'batches/expiring (count)',
      sql: `select count(*) from inventory_batch b
             where b.remaining > 0 and b.expires_at > now() and b.expires_at <= now() + interval '30 days'`,
      params: [],
    },
    {
      name: 'batches/expiring?warehouseId (count)',
      sql: `select count(*) from inventory_batch b
              join inventory_record r on r.inventory_id = b.inventory_id and r.warehouse_id in ($1)
             where b.remaining > 0 and b.expires_at > now() and b.expires_at <= now() + interval '30 days'`,
      params: [lastWarehouse],
    },
  ];
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

function describe(node: PlanNode): string {
  const target = node['Index Name'] ?? node['Relation Name'];
  const own = target ? `${node['Node Type']} (${target})` : node['Node Type'];
  const children = (node.Plans ?? []).map(describe);
  return children.length ? `${own} > ${children.join(' + ')}` : own;
}

function hasSeqScan(node: PlanNode): boolean {
  return node['Node Type'] === 'Seq Scan' || (node.Plans ?? []).some(hasSeqScan);
}

export interface PlanSummary {
  name: string;
  plan: string;
  seqScan: boolean;
  rows: number;
  ms: number;
  sharedBuffers: number;
}

/** EXPLAIN (ANALYZE, BUFFERS) of every read: the plan's shape, whether it scans a table, and its time. */
export async function explainReads(db: pg.ClientBase, warehouses: number): Promise<PlanSummary[]> {
  const summaries: PlanSummary[] = [];
  for (const statement of readStatements(warehouses)) {
    const { rows } = await db.query(
      `explain (analyze, buffers, format json) ${statement.sql}`,
      statement.params,
    );
    const [result] = rows[0]['QUERY PLAN'] as {
      Plan: PlanNode & { 'Shared Hit Blocks': number; 'Shared Read Blocks': number };
      'Execution Time': number;
    }[];
    const plan = result!.Plan;
    summaries.push({
      name: statement.name,
      plan: describe(plan),
      seqScan: hasSeqScan(plan),
      rows: plan['Actual Rows'] ?? 0,
      ms: Math.round(result!['Execution Time'] * 10) / 10,
      sharedBuffers: plan['Shared Hit Blocks'] + plan['Shared Read Blocks'],
    });
  }
  return summaries;
}
