import pg from 'pg';
import { benchRecords, postAdjust } from '../adjust.js';
import { closedLoop } from '../pace.js';
import type { Cell, Goal } from '../report.js';
import { now, ratio, Samples } from '../stats.js';
import type { Benchmark, BenchContext } from './context.js';

const WRITERS = 32;

interface Tally {
  ok: number;
  conflicts: number;
  errors: number;
  latency: Samples;
  elapsedMs: number;
}

function tally(): Tally {
  return { ok: 0, conflicts: 0, errors: 0, latency: new Samples(), elapsedMs: 0 };
}

/**
 * 32 writers adjusting `hot` records, each naming the version it last saw (`expectedVersion`): a 409 tells it
 * the current version and it tries again. Latency is per successful adjust, retries included.
 */
async function viaService(ctx: BenchContext, hot: number, durationMs: number): Promise<Tally> {
  const url = ctx.bench.stack.inventory.url;
  const records = benchRecords(`bench-hot-${hot}`, hot);
  const versions = await Promise.all(records.map(async (r) => (await postAdjust(url, ctx.token, r)).version ?? 0));
  const t = tally();
  t.elapsedMs = await closedLoop(WRITERS, durationMs, async (worker) => {
    const index = (worker + t.ok + t.conflicts) % hot;
    const started = now();
    for (;;) {
      const outcome = await postAdjust(url, ctx.token, records[index]!, { expectedVersion: versions[index] });
      if (outcome.status === 200) {
        versions[index] = Math.max(versions[index]!, outcome.version ?? 0);
        t.ok++;
        t.latency.push(now() - started);
        return;
      }
      if (outcome.status !== 409 || outcome.currentVersion === null) {
        t.errors++;
        if (t.errors > 1_000) throw new Error(`contention: adjusts keep failing (HTTP ${outcome.status})`);
        return;
      }
      t.conflicts++;
      versions[index] = Math.max(versions[index]!, outcome.currentVersion);
    }
  });
  return t;
}

/** The bound: the same optimistic `UPDATE … WHERE version = $v` straight over `pg`, 32 connections. */
async function rawSql(databaseUrl: string, hot: number, durationMs: number): Promise<Tally> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: WRITERS });
  try {
    const table = `bench_raw_${hot}`;
    await pool.query(`create table if not exists ${table} (id int primary key, quantity bigint not null, version int not null)`);
    await pool.query(`truncate ${table}`);
    await pool.query(`insert into ${table} select g, 0, 1 from generate_series(0, $1 - 1) g`, [hot]);
    const versions = Array.from({ length: hot }, () => 1);
    const t = tally();
    t.elapsedMs = await closedLoop(WRITERS, durationMs, async (worker) => {
      const index = (worker + t.ok + t.conflicts) % hot;
      const started = now();
      for (;;) {
        const updated = await pool.query<{ version: number }>(
          `update ${table} set quantity = quantity + 1, version = version + 1 where id = $1 and version = $2 returning version`,
          [index, versions[index]],
        );
        if (updated.rowCount === 1) {
          versions[index] = Math.max(versions[index]!, updated.rows[0]!.version);
          t.ok++;
          t.latency.push(now() - started);
          return;
        }
        t.conflicts++;
        const current = await pool.query<{ version: number }>(`select version from ${table} where id = $1`, [index]);
        versions[index] = Math.max(versions[index]!, current.rows[0]!.version);
      }
    });
    return t;
  } finally {
    await pool.end();
  }
}

export const contention: Benchmark = {
  name: 'contention',
  description: 'adjust throughput with 32 writers on 1, 10 and 100 hot records, beside raw optimistic SQL',
  async run(ctx: BenchContext) {
    const durationMs = ctx.quick ? 1_500 : 6_000;
    const rows: Record<string, Cell>[] = [];
    const goals: Goal[] = [];
    for (const hot of [1, 10, 100]) {
      ctx.log(`contention: ${hot} hot record(s)`);
      const service = await viaService(ctx, hot, durationMs);
      const raw = await rawSql(ctx.bench.stack.databases.inventory.url, hot, durationMs);
      const rate = (t: Tally) => (t.ok / t.elapsedMs) * 1000;
      const row = (label: string, t: Tally): Record<string, Cell> => ({
        'hot records': hot,
        path: label,
        'adjusts/s': Math.round(rate(t)),
        '409 rate': `${((100 * t.conflicts) / Math.max(1, t.ok + t.conflicts)).toFixed(1)}%`,
        'p50 ms': t.latency.summary().p50,
        'p99 ms': t.latency.summary().p99,
        errors: t.errors,
      });
      rows.push(row('POST /api/inventory/adjust', service), row('raw UPDATE … WHERE version (pg)', raw));
      const share = ratio(rate(service), rate(raw));
      goals.push({
        text: `${hot} hot: service ≥ 50% of raw`,
        measured: share === null ? '–' : `${Math.round(share * 100)}%`,
        met: share === null ? null : share >= 0.5,
      });
      if (service.ok === 0) throw new Error(`contention: no adjust succeeded on ${hot} hot records`);
    }
    return {
      name: 'contention',
      title: `Adjust throughput under contention (${WRITERS} concurrent writers)`,
      columns: ['hot records', 'path', 'adjusts/s', '409 rate', 'p50 ms', 'p99 ms', 'errors'],
      rows,
      goals,
      notes: [
        `${durationMs / 1000} s closed loop per row. A writer names the version it last saw; on 409 it takes the current version and tries again (latency includes retries). 409 rate = conflicts / attempts.`,
        'The service also writes the ledger row and the outbox event in the same transaction, and authenticates and validates every request; the raw row does one UPDATE.',
      ],
    };
  },
};
