import { newEventId } from '@inv/contracts';
import { BOOK_MOVEMENTS_SQL, bookMovements, type MovementGroup, poolClient } from '@inv/inventory';
import pg from 'pg';
import type { Cell } from '../report.js';
import { ratio } from '../stats.js';
import { rawIn, rawTables, type Tally, unpinnedWriters, WRITERS } from './contention.js';
import type { BenchContext, Benchmark } from './context.js';

/**
 * The database side of `contention` alone: the inventory service's movement statement for an unpinned `in 1`
 * (as `bookMovements` builds and runs it, with its parameters and JSON result), without HTTP, beside the raw
 * transaction's statement, from 32 `pg` connections, in alternating rounds. "generic" forces the statement
 * that books any movements (the service's only one before the lean one for a single increase).
 */
type Path = 'service' | 'generic' | 'raw';

const PATHS: Path[] = ['service', 'generic', 'raw'];
const ROUNDS = 2;
const WARM_UP_MS = 500;

function inOne(productId: string, index: number): MovementGroup[] {
  const now = Date.now();
  return [
    {
      target: {
        key: { productId, warehouseId: `w-${index}`, variantId: null, uomId: null },
        newInventoryId: newEventId(now),
        mayCreate: true,
        location: {},
      },
      movements: [
        {
          change: { movementType: 'in', quantityChange: 1, reservedChange: 0 },
          context: { actor: 'bench', reason: null, source: null },
          eventIds: { updated: newEventId(now), lowStock: newEventId(now), outOfStock: newEventId(now) },
        },
      ],
    },
  ];
}

const GENERIC = { sql: BOOK_MOVEMENTS_SQL, name: 'inventory_book_movements', params: [] };

function writer(pool: pg.Pool, productId: string, path: Path) {
  const db = poolClient(pool);
  return async (index: number): Promise<'ok' | 'error'> => {
    if (path === 'raw') return (await rawIn(pool, index).catch(() => null)) ? 'ok' : 'error';
    const groups = inOne(productId, index);
    const result = await bookMovements(db, groups, new Date(), path === 'generic' ? GENERIC : undefined);
    return result.ok ? 'ok' : 'error';
  };
}

function merge(into: Tally | undefined, t: Tally): Tally {
  if (!into) return t;
  into.ok += t.ok;
  into.errors += t.errors;
  into.elapsedMs += t.elapsedMs;
  for (const v of t.latency.view()) into.latency.push(v);
  return into;
}

const rateOf = (t: Tally) => (t.ok / t.elapsedMs) * 1000;

/** Median executor and planner time of each statement, from EXPLAIN ANALYZE on one connection. */
async function explainMedians(pool: pg.Pool, productId: string): Promise<string[]> {
  const client = await pool.connect();
  const times = {
    service: { run: [] as number[], plan: [] as number[] },
    generic: { run: [] as number[], plan: [] as number[] },
  };
  try {
    // No WAL flush wait per statement: the executor's time is what is compared.
    await client.query('set synchronous_commit = off');
    for (let i = 0; i < 120; i++) {
      for (const path of ['service', 'generic'] as const) {
        const text = await explained(client, productId, i, path);
        if (i < 10) continue; // the first five runs of a prepared statement are planned for their values
        const entry = times[path];
        entry.run.push(Number(/Execution Time: ([\d.]+)/.exec(text)?.[1]));
        entry.plan.push(Number(/Planning Time: ([\d.]+)/.exec(text)?.[1]));
      }
    }
    const plans = await client.query<{ name: string; generic_plans: string; custom_plans: string }>(
      'select name, generic_plans, custom_plans from pg_prepared_statements order by name',
    );
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!.toFixed(3);
    return [
      ...Object.entries(times).map(
        ([path, t]) =>
          `EXPLAIN (ANALYZE) of the ${path} statement, median of 110 on one connection: execution ${median(t.run)} ms, planning ${median(t.plan)} ms.`,
      ),
      `plans used: ${plans.rows.map((p) => `${p.name} ${p.generic_plans} generic / ${p.custom_plans} custom`).join('; ')}.`,
    ];
  } finally {
    client.release();
  }
}

/** EXPLAIN ANALYZE through a session-level prepared statement of the same text (it runs the statement). */
async function explained(client: pg.PoolClient, productId: string, i: number, path: 'service' | 'generic') {
  const name = `explain_${path}`;
  const prepared = await client.query('select 1 from pg_prepared_statements where name = $1', [name]);
  const sql = path === 'generic' ? BOOK_MOVEMENTS_SQL : await serviceSql();
  if (prepared.rowCount === 0) {
    await client.query(`prepare ${name}(jsonb, jsonb, timestamptz, jsonb) as ${sql}`);
  }
  const captured = await captureParams(inOne(productId, i % 10));
  const literal = (v: unknown) => `'${String(v instanceof Date ? v.toISOString() : v).replace(/'/g, "''")}'`;
  const result = await client.query<{ 'QUERY PLAN': string }>(
    `explain (analyze, timing off, costs off) execute ${name}(${captured.params.map(literal).join(', ')})`,
  );
  return result.rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** The statement and parameters `bookMovements` sends, captured from a client that answers nothing. */
async function captureParams(groups: MovementGroup[]): Promise<{ sql: string; params: unknown[] }> {
  let seen: { sql: string; params: unknown[] } | null = null;
  await bookMovements(
    {
      autocommit: false,
      async query<T>(text: string, values: unknown[]) {
        seen = { sql: text, params: values };
        return [{ result: { ok: false, failures: [], current: [] } }] as T[];
      },
    },
    groups,
    new Date(),
  );
  return seen!;
}

async function serviceSql(): Promise<string> {
  return (await captureParams(inOne('bench-statement-capture', 0))).sql;
}

async function measure(ctx: BenchContext, count: number, roundMs: number) {
  const pool = new pg.Pool({ connectionString: ctx.bench.stack.databases.inventory.url, max: WRITERS });
  const productId = `bench-statement-${count}`;
  try {
    for (let i = 0; i < count; i++) await bookMovements(poolClient(pool), inOne(productId, i), new Date());
    await rawTables(pool, count);
    // Unmeasured: every connection opened and each statement planned past its first five (custom) plans.
    for (const path of PATHS) await unpinnedWriters(count, WARM_UP_MS, writer(pool, productId, path));
    const tallies: Partial<Record<Path, Tally>> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? PATHS : [...PATHS].reverse();
      for (const path of order) {
        const t = await unpinnedWriters(count, roundMs, writer(pool, productId, path));
        tallies[path] = merge(tallies[path], t);
      }
    }
    return { tallies: tallies as Record<Path, Tally>, pool, productId };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

function row(count: number, path: Path, t: Tally, raw: Tally): Record<string, Cell> {
  const s = t.latency.summary();
  return {
    records: count,
    statement: path === 'raw' ? 'raw: same transaction' : `${path}: bookMovements`,
    'statements/s': Math.round(rateOf(t)),
    'of raw': ratio(rateOf(t), rateOf(raw)),
    'p50 ms': s.p50,
    'p99 ms': s.p99,
    errors: t.errors,
  };
}

export const statement: Benchmark = {
  name: 'statement',
  description: "the service's movement statement alone (32 pg connections) beside the raw transaction's",
  async run(ctx: BenchContext) {
    const roundMs = ctx.quick ? 750 : 2_500;
    const rows: Record<string, Cell>[] = [];
    let explain: string[] = [];
    for (const count of [1000, 10, 1]) {
      ctx.log(`statement: in 1 on ${count} record(s)`);
      const { tallies, pool, productId } = await measure(ctx, count, roundMs);
      try {
        for (const path of PATHS) rows.push(row(count, path, tallies[path], tallies.raw));
        if (count === 1000) explain = await explainMedians(pool, productId);
      } finally {
        await pool.end();
      }
    }
    return {
      name: 'statement',
      title: `The movement statement alone for \`in 1\` (${WRITERS} pg connections) beside the raw transaction`,
      columns: ['records', 'statement', 'statements/s', 'of raw', 'p50 ms', 'p99 ms', 'errors'],
      rows,
      goals: [],
      notes: [
        `${ROUNDS} rounds of ${roundMs / 1000} s per statement and record count, alternating, merged; ${WRITERS} writers on ${WRITERS} connections, each committing alone.`,
        'service: the statement the service runs for an unpinned `in 1` (`bookMovements`, its parameters and JSON result parsed); generic: the statement for any movements, forced; raw: the same transaction as `contention` runs it.',
        ...explain,
      ],
    };
  },
};
