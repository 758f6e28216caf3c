import pg from 'pg';
import { benchRecords, postAdjust } from '../adjust.js';
import { stockEventJson } from '../events.js';
import { closedLoop } from '../pace.js';
import { CpuMeter } from '../proc.js';
import type { Cell, Goal } from '../report.js';
import { now, ratio, Samples } from '../stats.js';
import type { BenchContext, Benchmark } from './context.js';

const WRITERS = 32;

interface Tally {
  ok: number;
  conflicts: number;
  errors: number;
  latency: Samples;
  elapsedMs: number;
  /** CPU share of the inventory process while the service was measured (100 = one core). */
  serviceCpu?: number;
}

/** One optimistic write: done (at this version), refused as stale (the record is at `current`), or failed. */
type Attempt = { ok: true; version: number } | { ok: false; current: number | null };

/**
 * 32 writers on `hot` records, each naming the version it last saw; a refusal tells it the current version and
 * it tries again. Latency is per successful write, retries included; the same loop drives every path.
 */
async function optimisticWriters(
  versions: number[],
  durationMs: number,
  attempt: (index: number, expected: number) => Promise<Attempt>,
): Promise<Tally> {
  const t: Tally = { ok: 0, conflicts: 0, errors: 0, latency: new Samples(), elapsedMs: 0 };
  t.elapsedMs = await closedLoop(WRITERS, durationMs, async (worker) => {
    const index = (worker + t.ok + t.conflicts) % versions.length;
    const started = now();
    for (;;) {
      const outcome = await attempt(index, versions[index]!);
      if (outcome.ok) {
        versions[index] = Math.max(versions[index]!, outcome.version);
        t.ok++;
        t.latency.push(now() - started);
        return;
      }
      if (outcome.current === null) {
        t.errors++;
        if (t.errors > 1_000) throw new Error('contention: writes keep failing');
        return;
      }
      t.conflicts++;
      versions[index] = Math.max(versions[index]!, outcome.current);
    }
  });
  return t;
}

/** `POST /api/inventory/adjust` with `expectedVersion`: a 409 carries the current version. */
async function viaService(ctx: BenchContext, hot: number, durationMs: number): Promise<Tally> {
  const url = ctx.bench.stack.inventory.url;
  const records = benchRecords(`bench-hot-${hot}`, hot);
  const versions = await Promise.all(
    records.map(async (r) => (await postAdjust(url, ctx.token, r)).version ?? 0),
  );
  const cpu = new CpuMeter([ctx.bench.stack.inventory.pid!]);
  const tally = await optimisticWriters(versions, durationMs, async (index, expected) => {
    const outcome = await postAdjust(url, ctx.token, records[index]!, { expectedVersion: expected });
    if (outcome.status === 200) return { ok: true, version: outcome.version ?? expected + 1 };
    return { ok: false, current: outcome.status === 409 ? outcome.currentVersion : null };
  });
  tally.serviceCpu = cpu.read()[0];
  return tally;
}

/** Tables of the raw paths: records, and the ledger and outbox rows the service's transaction also writes. */
async function rawTables(pool: pg.Pool, hot: number): Promise<string> {
  const table = `bench_raw_${hot}`;
  await pool.query(
    `create table if not exists ${table} (id int primary key, quantity bigint not null, version int not null);
     create table if not exists bench_raw_ledger (id bigserial primary key, record int, version int, delta int,
       created_at timestamptz default now());
     create table if not exists bench_raw_outbox (id bigserial primary key, payload jsonb not null,
       created_at timestamptz default now(), published_at timestamptz);
     truncate ${table};`,
  );
  await pool.query(`insert into ${table} select g, 0, 1 from generate_series(0, $1 - 1) g`, [hot]);
  return table;
}

async function currentVersion(db: pg.Pool | pg.PoolClient, table: string, index: number): Promise<number> {
  const row = await db.query<{ version: number }>(`select version from ${table} where id = $1`, [index]);
  return row.rows[0]!.version;
}

/** The bound: the same optimistic `UPDATE … WHERE version = $v` alone, over `pg`. */
function rawUpdate(pool: pg.Pool, table: string) {
  return async (index: number, expected: number): Promise<Attempt> => {
    const updated = await pool.query<{ version: number }>(
      `update ${table} set quantity = quantity + 1, version = version + 1
        where id = $1 and version = $2 returning version`,
      [index, expected],
    );
    if (updated.rowCount === 1) return { ok: true, version: updated.rows[0]!.version };
    return { ok: false, current: await currentVersion(pool, table, index) };
  };
}

/**
 * What the service's transaction does in SQL, without the service: read the record, the conditional update,
 * a ledger row and an outbox event, committed together. Separates the database's share from the service's.
 */
function rawTransaction(pool: pg.Pool, table: string) {
  return async (index: number, expected: number): Promise<Attempt> => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const current = await currentVersion(client, table, index);
      const updated =
        current === expected
          ? await client.query<{ version: number }>(
              `update ${table} set quantity = quantity + 1, version = version + 1
                where id = $1 and version = $2 returning version`,
              [index, expected],
            )
          : null;
      if (updated?.rowCount !== 1) {
        await client.query('rollback');
        return { ok: false, current: updated ? await currentVersion(pool, table, index) : current };
      }
      const version = updated.rows[0]!.version;
      await client.query('insert into bench_raw_ledger (record, version, delta) values ($1, $2, 1)', [
        index,
        version,
      ]);
      const event = stockEventJson({ productId: 'bench-raw', warehouseId: `w-${index}` }, version, 'raw');
      await client.query('insert into bench_raw_outbox (payload) values ($1)', [event]);
      await client.query('commit');
      return { ok: true, version };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
}

async function viaRawSql(ctx: BenchContext, hot: number, durationMs: number) {
  const pool = new pg.Pool({ connectionString: ctx.bench.stack.databases.inventory.url, max: WRITERS });
  try {
    const table = await rawTables(pool, hot);
    const update = await optimisticWriters(Array(hot).fill(1), durationMs, rawUpdate(pool, table));
    const versions = await Promise.all(Array.from({ length: hot }, (_, i) => currentVersion(pool, table, i)));
    const transaction = await optimisticWriters(versions, durationMs, rawTransaction(pool, table));
    return { update, transaction };
  } finally {
    await pool.end();
  }
}

export const contention: Benchmark = {
  name: 'contention',
  description: 'adjust throughput with 32 writers on 1, 10 and 100 hot records, beside raw optimistic SQL',
  async run(ctx: BenchContext) {
    const durationMs = ctx.quick ? 1_500 : 5_000;
    const rows: Record<string, Cell>[] = [];
    const goals: Goal[] = [];
    for (const hot of [1, 10, 100]) {
      ctx.log(`contention: ${hot} hot record(s)`);
      const service = await viaService(ctx, hot, durationMs);
      const raw = await viaRawSql(ctx, hot, durationMs);
      const rate = (t: Tally) => (t.ok / t.elapsedMs) * 1000;
      const row = (label: string, t: Tally): Record<string, Cell> => ({
        'hot records': hot,
        path: label,
        'adjusts/s': Math.round(rate(t)),
        '409 rate': `${((100 * t.conflicts) / Math.max(1, t.ok + t.conflicts)).toFixed(1)}%`,
        'p50 ms': t.latency.summary().p50,
        'p99 ms': t.latency.summary().p99,
        errors: t.errors,
        'inventory CPU %': t.serviceCpu ?? null,
      });
      rows.push(
        row('POST /api/inventory/adjust', service),
        row('raw: UPDATE … WHERE version (the bound)', raw.update),
        row('raw: same transaction as the service', raw.transaction),
      );
      const share = ratio(rate(service), rate(raw.update));
      const shareOfTransaction = ratio(rate(service), rate(raw.transaction));
      goals.push({
        text: `${hot} hot: service ≥ 50% of raw UPDATE`,
        measured: `${share === null ? '–' : Math.round(share * 100)}% (${shareOfTransaction === null ? '–' : Math.round(shareOfTransaction * 100)}% of the raw transaction)`,
        met: share === null ? null : share >= 0.5,
      });
      if (service.ok === 0) throw new Error(`contention: no adjust succeeded on ${hot} hot records`);
    }
    return {
      name: 'contention',
      title: `Adjust throughput under contention (${WRITERS} concurrent writers)`,
      columns: [
        'hot records',
        'path',
        'adjusts/s',
        '409 rate',
        'p50 ms',
        'p99 ms',
        'errors',
        'inventory CPU %',
      ],
      rows,
      goals,
      notes: [
        `${durationMs / 1000} s closed loop per row. A writer names the version it last saw; when refused (409, or no row updated) it takes the current version and tries again: latency includes retries, 409 rate = refusals / attempts.`,
        "The service authenticates, validates, reads the record and writes it, a ledger row and the outbox event in one transaction (7 round trips with BEGIN/COMMIT); the bound is 1 statement. The third row does the service's SQL without the service.",
      ],
    };
  },
};
