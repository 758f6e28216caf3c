import type pg from 'pg';

/**
 * A catalogue of `skus × warehouses` stock records, each with `movements` ledger rows, loaded in a few SQL
 * statements (generate_series) into a migrated inventory database.
 *
 * - SKU `i` is variant `i % 3` of product `i / 3` (three variants each) in unit `each` or `box` (alternating);
 *   so a product has 3 × warehouses records, a variant `warehouses`, a unit half the catalogue.
 * - Movement 1..K-1 are `in`s of `base + j` units; with K ≥ 2 the last one reserves 1 unit. Before/after
 *   columns follow from closed sums, so the ledger's CHECKs hold, versions are 1..K and the record is exactly
 *   the sum of its ledger: `invctl rebuild inventory` finds nothing to report.
 * - About `lowShare` of the records sit below their minimum (others have a minimum of 1, never above stock).
 * - About `batchShare` of the records got their first `in` as a batch expiring between 20 days ago and a year
 *   from now; the batch row names that movement.
 */
export interface CatalogueOptions {
  skus: number;
  warehouses: number;
  movements: number;
  /** Share of records below their minimum (default 0.05). */
  lowShare?: number;
  /** Share of records with a batch (default 0.2). */
  batchShare?: number;
  /** Prefix of every id, so several catalogues can share a database (default `cat`). */
  prefix?: string;
}

export interface LoadedCatalogue {
  records: number;
  movements: number;
  batches: number;
  lowStock: number;
  /** Milliseconds per step. */
  timings: Record<string, number>;
}

/** Ids the loader gives; tests and benchmarks use them to find what they query. */
export const catalogueIds = (prefix = 'cat') => ({
  record: (i: number, w: number) => `${prefix}-r${String(i).padStart(8, '0')}-w${String(w).padStart(4, '0')}`,
  product: (p: number) => `${prefix}-p${p}`,
  variant: (i: number) => `${prefix}-p${Math.floor(i / 3)}-v${i % 3}`,
  warehouse: (w: number) => `${prefix}-wh${w}`,
  uoms: ['each', 'box'] as const,
});

/** SQL expressions over `i` (SKU) and `w` (warehouse) shared by the record and ledger statements. */
function expressions(o: Required<CatalogueOptions>) {
  const k = o.movements;
  const base = '(1 + (i * 7 + w * 13) % 10)';
  // Sum of the `in`s 1..n: n·base + n(n+1)/2.
  const ins = (n: string) => `((${n}) * ${base} + (${n}) * ((${n}) + 1) / 2)`;
  const available = k >= 2 ? `(${ins(String(k - 1))} - 1)` : ins('1');
  const reserved = k >= 2 ? '1' : '0';
  const lowEvery = Math.max(1, Math.round(1 / Math.max(o.lowShare, 1e-9)));
  const low = o.lowShare > 0 ? `((i * 31 + w * 17) % ${lowEvery} = 0)` : 'false';
  const minimum = `(case when ${low} then ${available} + 1 + i % 5 else 1 end)`;
  const batchEvery = Math.max(1, Math.round(1 / Math.max(o.batchShare, 1e-9)));
  const batched = o.batchShare > 0 ? `((i + w * 3) % ${batchEvery} = 0)` : 'false';
  const p = o.prefix;
  // Zero-padded, so rows come in id order and the ledger's indexes on inventory_id grow at their right edge.
  const inventoryId = `'${p}-r' || lpad(i::text, 8, '0') || '-w' || lpad(w::text, 4, '0')`;
  return {
    base,
    ins,
    available,
    reserved,
    minimum,
    low,
    batched,
    inventoryId,
    productId: `'${p}-p' || (i / 3)`,
    variantId: `'${p}-p' || (i / 3) || '-v' || (i % 3)`,
    uomId: `(case when i % 2 = 0 then 'each' else 'box' end)`,
    warehouseId: `'${p}-wh' || w`,
    batchId: `'${p}-b' || lpad(i::text, 8, '0') || '-w' || lpad(w::text, 4, '0')`,
    // Time-ordered like the service's ids (UUIDv7 layout), unique per catalogue and movement: inserted in
    // order, the unique index on event_id grows at its right edge instead of splitting pages at random.
    eventId: `(substr(md5('${p}'), 1, 8) || '-0000-7000-8000-' || lpad(to_hex(((i::bigint * ${o.warehouses} + w) * ${o.movements} + j)), 12, '0'))::uuid`,
  };
}

async function timed(timings: Record<string, number>, step: string, work: () => Promise<unknown>) {
  const started = performance.now();
  await work();
  timings[step] = Math.round(performance.now() - started);
}

/**
 * Loads the catalogue in one transaction. Foreign-key checks are skipped while loading when the role may do so
 * (`session_replication_role = replica`, superusers only): the rows reference each other by construction and
 * checking 10M of them one by one would take most of the load. CHECK and unique constraints stay on.
 */
export async function loadCatalogue(db: pg.ClientBase, options: CatalogueOptions): Promise<LoadedCatalogue> {
  const o: Required<CatalogueOptions> = { lowShare: 0.05, batchShare: 0.2, prefix: 'cat', ...options };
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,15}$/.test(o.prefix)) throw new Error(`bad catalogue prefix ${o.prefix}`);
  if (o.movements < 1) throw new Error('a record has at least one movement');
  const x = expressions(o);
  const timings: Record<string, number> = {};
  const grid = `generate_series(0, ${o.skus - 1}) i cross join generate_series(0, ${o.warehouses - 1}) w`;
  await db.query('begin');
  try {
    await db.query('set local session_replication_role = replica').catch(() => undefined);
    await db.query(`set local maintenance_work_mem = '256MB'`).catch(() => undefined);
    await timed(timings, 'records', () =>
      db.query(`
        insert into inventory_record (inventory_id, product_id, warehouse_id, variant_id, uom_id,
          quantity_available, quantity_reserved, minimum_stock, rack, bin, zone, aisle, version,
          created_at, updated_at)
        select ${x.inventoryId}, ${x.productId}, ${x.warehouseId}, ${x.variantId}, ${x.uomId},
               ${x.available}, ${x.reserved}, ${x.minimum},
               'R' || (i % 40), 'B' || (i % 25), 'Z' || (w % 4), 'A' || (i % 12), ${o.movements},
               now() - interval '${o.movements} hours', now()
          from ${grid}`),
    );
    // Movement j of each record; `n` is how many `in`s precede and include it.
    const isIn = `(j < ${o.movements} or ${o.movements} = 1)`;
    const inBefore = x.ins('j - 1');
    await timed(timings, 'ledger', () =>
      db.query(`
        insert into inventory_movement (inventory_id, record_version, product_id, warehouse_id, variant_id,
          uom_id, movement_type, quantity_change, reserved_change, available_before, available_after,
          reserved_before, reserved_after, minimum_stock, reason, source, actor, correlation_id, batch_id,
          event_id, created_at)
        select ${x.inventoryId}, j, ${x.productId}, ${x.warehouseId}, ${x.variantId}, ${x.uomId},
               case when ${isIn} then 'in' else 'reservation' end,
               case when ${isIn} then ${x.base} + j else -1 end,
               case when ${isIn} then 0 else 1 end,
               ${inBefore},
               case when ${isIn} then ${x.ins('j')} else ${inBefore} - 1 end,
               0,
               case when ${isIn} then 0 else 1 end,
               ${x.minimum},
               case when j = 1 and ${x.batched} then 'batch LOT-' || i else 'restock' end,
               case when j = 1 and ${x.batched} then 'batch' else 'loader' end,
               'loader', null,
               case when j = 1 and ${x.batched} then ${x.batchId} end,
               ${x.eventId}, now() - make_interval(hours => ${o.movements} - j)
          from ${grid} cross join generate_series(1, ${o.movements}) j`),
    );
    await timed(timings, 'batches', () =>
      db.query(`
        insert into inventory_batch (batch_id, inventory_id, batch_number, quantity, remaining, expires_at,
          movement_id, created_at)
        select ${x.batchId}, m.inventory_id, 'LOT-' || i, m.quantity_change, m.quantity_change,
               date_trunc('day', now()) + make_interval(days => (i * 3 + w * 7) % 385 - 20), m.movement_id,
               m.created_at
          from ${grid}
          join inventory_movement m on m.inventory_id = ${x.inventoryId} and m.record_version = 1
         where ${x.batched}`),
    );
    await db.query('commit');
  } catch (error) {
    await db.query('rollback').catch(() => undefined);
    throw error;
  }
  // As autovacuum would leave them after a while: statistics, and the visibility map that lets counts and
  // totals be index-only scans (the ledger is only analysed: vacuuming 10M rows would dominate the load).
  await timed(timings, 'vacuum', async () => {
    await db.query('vacuum (analyze) inventory_record, inventory_batch');
    await db.query('analyze inventory_movement');
  });
  const counts = await db.query<{ records: number; batches: number; low: number }>(
    `select (select count(*)::int from inventory_record where inventory_id like $1) as records,
            (select count(*)::int from inventory_batch where batch_id like $2) as batches,
            (select count(*)::int from inventory_record
              where inventory_id like $1 and minimum_stock > 0 and quantity_available < minimum_stock) as low`,
    [`${o.prefix}-r%`, `${o.prefix}-b%`],
  );
  const row = counts.rows[0]!;
  return {
    records: row.records,
    movements: row.records * o.movements,
    batches: row.batches,
    lowStock: row.low,
    timings,
  };
}
