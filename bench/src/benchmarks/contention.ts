import pg from 'pg';
import { benchRecords, postAdjust } from '../adjust.js';
import { type BenchRecord, recordSubject, stockEventJson } from '../events.js';
import { closedLoop } from '../pace.js';
import { CpuMeter, withChildren } from '../proc.js';
import type { Cell, Goal } from '../report.js';
import { now, ratio, Samples } from '../stats.js';
import type { BenchContext, Benchmark } from './context.js';

export const WRITERS = 32;

export interface Tally {
  ok: number;
  conflicts: number;
  errors: number;
  latency: Samples;
  elapsedMs: number;
  /** CPU share of the inventory process(es) while the service was measured (100 = one core). */
  serviceCpu?: number;
  /** Transactions the inventory database committed per successful write (the relay's included). */
  commitsPerWrite?: number;
}

/** The database's committed transactions so far (its statistics are flushed within a second or so). */
async function commitsOf(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const row = await client.query<{ n: string }>(
      'select xact_commit as n from pg_stat_database where datname = current_database()',
    );
    return Number(row.rows[0]!.n);
  } finally {
    await client.end();
  }
}

/**
 * Starts counting the inventory database's commits; `perWrite` says how many there were per successful write
 * since (the relay's included, the two counting reads' own excluded), once every backend flushed its counters.
 */
async function commitCounter(ctx: BenchContext) {
  const url = ctx.bench.stack.databases.inventory.url;
  const before = await commitsOf(url);
  return {
    async perWrite(writes: number): Promise<number> {
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      return Math.round((((await commitsOf(url)) - before - 2) / Math.max(1, writes)) * 100) / 100;
    },
  };
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

/** A copy of the inventory tables the write path touches (record, ledger, outbox), with their indexes. */
export async function rawTables(pool: pg.Pool, records: number): Promise<void> {
  await pool.query(
    `drop table if exists bench_raw_record, bench_raw_movement, bench_raw_outbox;
     create table bench_raw_record (like inventory_record including all);
     create table bench_raw_movement (like inventory_movement including all);
     create table bench_raw_outbox (like outbox including all);`,
  );
  await pool.query(
    `insert into bench_raw_record (inventory_id, product_id, warehouse_id, version)
     select 'raw-' || g, 'bench-raw', 'w-' || g, 1 from generate_series(0, $1 - 1) g`,
    [records],
  );
}

async function currentVersion(db: pg.Pool, index: number): Promise<number> {
  const row = await db.query<{ version: number }>(
    'select version from bench_raw_record where inventory_id = $1',
    [`raw-${index}`],
  );
  return row.rows[0]!.version;
}

/** The pinned bound: the optimistic `UPDATE … WHERE version = $v` alone, over `pg`. */
function rawPinnedUpdate(pool: pg.Pool) {
  return async (index: number, expected: number): Promise<Attempt> => {
    const updated = await pool.query<{ version: number }>(
      `update bench_raw_record set quantity_available = quantity_available + 1, version = version + 1
        where inventory_id = $1 and version = $2 returning version`,
      [`raw-${index}`, expected],
    );
    if (updated.rowCount === 1) return { ok: true, version: updated.rows[0]!.version };
    return { ok: false, current: await currentVersion(pool, index) };
  };
}

/**
 * The "same transaction done raw": the conditional UPDATE of the record (never below zero), its ledger
 * row and its outbox event, committed together — as one statement with data-modifying CTEs, one round trip.
 */
export async function rawIn(pool: pg.Pool, index: number): Promise<boolean> {
  const record = { productId: 'bench-raw', warehouseId: `w-${index}` };
  const event = stockEventJson(record, 0, 'raw');
  const { id } = JSON.parse(event) as { id: string };
  const result = await pool.query(
    `with r as (
       update bench_raw_record set quantity_available = quantity_available + 1, version = version + 1,
              updated_at = now()
        where inventory_id = $1 and quantity_available + 1 >= 0
       returning *),
     m as (
       insert into bench_raw_movement (inventory_id, record_version, product_id, warehouse_id, movement_type,
              quantity_change, reserved_change, available_before, available_after, reserved_before,
              reserved_after, minimum_stock, actor, event_id)
       select inventory_id, version, product_id, warehouse_id, 'in', 1, 0, quantity_available - 1,
              quantity_available, quantity_reserved, quantity_reserved, minimum_stock, 'bench', $2
         from r),
     o as (
       insert into bench_raw_outbox (event_id, event_type, subject, order_key, payload)
       select $2, 'inventory.updated', $3, 'inventory:' || inventory_id, $4::jsonb from r)
     select version from r`,
    [`raw-${index}`, id, recordSubject(record), event],
  );
  return result.rowCount === 1;
}

/** 32 writers, each sending `in 1` without a version to the record after its last; a 409 is final. */
export async function unpinnedWriters(
  records: number,
  durationMs: number,
  write: (index: number) => Promise<'ok' | 'conflict' | 'error'>,
): Promise<Tally> {
  const t: Tally = { ok: 0, conflicts: 0, errors: 0, latency: new Samples(), elapsedMs: 0 };
  let next = 0;
  t.elapsedMs = await closedLoop(WRITERS, durationMs, async () => {
    const index = next++ % records;
    const started = now();
    const outcome = await write(index);
    if (outcome === 'ok') {
      t.ok++;
      t.latency.push(now() - started);
    } else if (outcome === 'conflict') t.conflicts++;
    else if (++t.errors > 1_000) throw new Error('contention: writes keep failing');
  });
  return t;
}

/** Creates the service's records (the first `in` does) so that the measured writes only change them. */
async function createRecords(ctx: BenchContext, records: BenchRecord[]): Promise<void> {
  const url = ctx.bench.stack.inventory.url;
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < records.length) await postAdjust(url, ctx.token, records[next++]!);
    }),
  );
}

async function unpinnedViaService(ctx: BenchContext, count: number, durationMs: number): Promise<Tally> {
  const url = ctx.bench.stack.inventory.url;
  const records = benchRecords(`bench-unpinned-${count}`, count);
  await createRecords(ctx, records);
  const commits = await commitCounter(ctx);
  const cpu = new CpuMeter(withChildren(ctx.bench.stack.inventory.pid!));
  const tally = await unpinnedWriters(count, durationMs, async (index) => {
    const { status } = await postAdjust(url, ctx.token, records[index]!);
    return status === 200 ? 'ok' : status === 409 ? 'conflict' : 'error';
  });
  tally.serviceCpu = cpu.read().reduce((sum, share) => sum + share, 0);
  tally.commitsPerWrite = await commits.perWrite(tally.ok);
  return tally;
}

async function unpinnedRaw(ctx: BenchContext, count: number, durationMs: number): Promise<Tally> {
  const pool = new pg.Pool({ connectionString: ctx.bench.stack.databases.inventory.url, max: WRITERS });
  try {
    await rawTables(pool, count);
    const commits = await commitCounter(ctx);
    const tally = await unpinnedWriters(count, durationMs, async (index) =>
      (await rawIn(pool, index).catch(() => null)) ? 'ok' : 'error',
    );
    tally.commitsPerWrite = await commits.perWrite(tally.ok);
    return tally;
  } finally {
    await pool.end();
  }
}

/** `POST /api/inventory/adjust` with `expectedVersion`: a 409 carries the current version. */
async function pinnedViaService(ctx: BenchContext, count: number, durationMs: number): Promise<Tally> {
  const url = ctx.bench.stack.inventory.url;
  const records = benchRecords(`bench-pinned-${count}`, count);
  const versions = await Promise.all(
    records.map(async (r) => (await postAdjust(url, ctx.token, r)).version ?? 0),
  );
  return optimisticWriters(versions, durationMs, async (index, expected) => {
    const outcome = await postAdjust(url, ctx.token, records[index]!, { expectedVersion: expected });
    if (outcome.status === 200) return { ok: true, version: outcome.version ?? expected + 1 };
    return { ok: false, current: outcome.status === 409 ? outcome.currentVersion : null };
  });
}

async function pinnedRaw(ctx: BenchContext, count: number, durationMs: number): Promise<Tally> {
  const pool = new pg.Pool({ connectionString: ctx.bench.stack.databases.inventory.url, max: WRITERS });
  try {
    await rawTables(pool, count);
    return await optimisticWriters(Array(count).fill(1), durationMs, rawPinnedUpdate(pool));
  } finally {
    await pool.end();
  }
}

const rateOf = (t: Tally) => (t.ok / t.elapsedMs) * 1000;

function row(records: number, path: string, t: Tally): Record<string, Cell> {
  return {
    records,
    path,
    'adjusts/s': Math.round(rateOf(t)),
    '409s': `${t.conflicts} of ${t.ok + t.conflicts + t.errors}`,
    'p50 ms': t.latency.summary().p50,
    'p99 ms': t.latency.summary().p99,
    errors: t.errors,
    'inventory CPU %': t.serviceCpu ?? null,
    'DB commits/write': t.commitsPerWrite ?? null,
  };
}

const percent = (share: number | null) => (share === null ? '–' : `${Math.round(share * 100)}%`);

export const contention: Benchmark = {
  name: 'contention',
  description: 'unpinned `in 1` by 32 writers on 1000, 10 and 1 records, beside the same transaction raw',
  async run(ctx: BenchContext) {
    const durationMs = ctx.quick ? 1_500 : 5_000;
    const rows: Record<string, Cell>[] = [];
    const goals: Goal[] = [];
    for (const count of [1000, 10, 1]) {
      ctx.log(`contention: unpinned in 1 on ${count} record(s)`);
      const service = await unpinnedViaService(ctx, count, durationMs);
      const raw = await unpinnedRaw(ctx, count, durationMs);
      rows.push(row(count, 'POST /api/inventory/adjust', service), row(count, 'raw: same transaction', raw));
      const share = ratio(rateOf(service), rateOf(raw));
      goals.push({
        text: `${count} record(s): service ≥ 50% of the same transaction raw, 0 responses 409`,
        measured: `${percent(share)}, ${service.conflicts} × 409 of ${service.ok + service.conflicts + service.errors}`,
        met: share === null ? null : share >= 0.5 && service.conflicts === 0,
      });
      if (service.ok === 0) throw new Error(`contention: no adjust succeeded on ${count} records`);
    }
    if (!ctx.quick) {
      // Pinned versions: what a client naming its version gets on 10 busy records (the seed's 409 contract).
      ctx.log('contention: pinned versions on 10 records');
      rows.push(
        row(
          10,
          'pinned: POST /api/inventory/adjust with expectedVersion',
          await pinnedViaService(ctx, 10, durationMs),
        ),
        row(10, 'pinned: raw UPDATE … WHERE version', await pinnedRaw(ctx, 10, durationMs)),
      );
    }
    return {
      name: 'contention',
      title: `Adjust throughput under contention (${WRITERS} concurrent writers)`,
      columns: [
        'records',
        'path',
        'adjusts/s',
        '409s',
        'p50 ms',
        'p99 ms',
        'errors',
        'inventory CPU %',
        'DB commits/write',
      ],
      rows,
      goals,
      notes: [
        `inventory served by ${process.env.INVENTORY_WORKERS ?? 1} process(es) (INVENTORY_WORKERS; CPU % sums them, 100 = one core).`,
        `${durationMs / 1000} s closed loop per row, ${WRITERS} writers, each sending \`in 1\` without a version to the next record in turn; a 409 is the service's final answer (after its own retries) and is counted, not retried. Latency of the successful writes.`,
        'raw: the same transaction over `pg` without the service: the conditional UPDATE of the record (never below zero), its ledger row and its outbox row, in copies of the inventory tables (same columns and indexes), as one statement with data-modifying CTEs (one round trip, committed alone).',
        'pinned rows (full run only): writers name the version they last saw (`expectedVersion`) and on a 409 retry with the current one — the optimistic contract clients that pin versions get; their bound is the bare `UPDATE … WHERE version`. 409s there are expected.',
      ],
    };
  },
};
