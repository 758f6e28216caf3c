import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { adjustAtRate, benchRecords } from '../adjust.js';
import { closedLoop } from '../pace.js';
import { residentBytes } from '../proc.js';
import type { Cell, Goal } from '../report.js';
import { explainReads, type PlanSummary } from '../scale/explain.js';
import { catalogueIds, loadCatalogue } from '../scale/loader.js';
import { ROOT } from '../stack.js';
import { now, Samples } from '../stats.js';
import type { BenchContext, Benchmark } from './context.js';

const READERS = 20;
const ADJUSTS_PER_S = 100;
const GOAL_P99_MS = 50;
const GOAL_BYTES = 256 * 1024;
const GOAL_RSS = 300 * 1024 * 1024;
const MB = 1024 * 1024;

interface Size {
  skus: number;
  warehouses: number;
  movements: number;
}

function sizeOf(quick: boolean): Size {
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const defaults = quick
    ? { skus: 3_000, warehouses: 5, movements: 3 }
    : { skus: 100_000, warehouses: 10, movements: 10 };
  return {
    skus: env('BENCH_SCALE_SKUS', defaults.skus),
    warehouses: env('BENCH_SCALE_WAREHOUSES', defaults.warehouses),
    movements: env('BENCH_SCALE_MOVEMENTS', defaults.movements),
  };
}

/** Every read endpoint, each request with other ids (a random SKU and warehouse of the catalogue). */
function readEndpoints(size: Size): { name: string; path: () => string }[] {
  const ids = catalogueIds('cat');
  const sku = () => Math.floor(Math.random() * size.skus);
  const wh = () => Math.floor(Math.random() * size.warehouses);
  const record = () => ids.record(sku(), wh());
  return [
    { name: 'record', path: () => `/api/inventory/${record()}` },
    { name: 'movements', path: () => `/api/inventory/${record()}/movements` },
    { name: 'list', path: () => '/api/inventory' },
    { name: 'list?productId', path: () => `/api/inventory?productId=${ids.product(Math.floor(sku() / 3))}` },
    { name: 'warehouse', path: () => `/api/inventory/warehouse/${ids.warehouse(wh())}` },
    { name: 'product', path: () => `/api/inventory/product/${ids.product(Math.floor(sku() / 3))}` },
    {
      name: 'product+warehouse',
      path: () =>
        `/api/inventory/product/${ids.product(Math.floor(sku() / 3))}/warehouse/${ids.warehouse(wh())}`,
    },
    { name: 'variant', path: () => `/api/inventory/variant/${ids.variant(sku())}` },
    { name: 'uom (half the catalogue)', path: () => `/api/inventory/uom/${ids.uoms[sku() % 2]}` },
    { name: 'uom?groupBy=warehouse', path: () => `/api/inventory/uom/each?groupBy=warehouse&limit=1` },
    { name: 'low-stock', path: () => '/api/inventory/low-stock' },
    {
      name: 'low-stock?warehouseId',
      path: () => `/api/inventory/low-stock?warehouseId=${ids.warehouse(wh())}`,
    },
    { name: 'batches/expiring', path: () => '/api/inventory/batches/expiring?withinDays=30' },
  ];
}

interface ReadTally {
  latency: Samples;
  maxBytes: number;
  ok: number;
  busy: number;
  failed: number;
}

async function timedGet(baseUrl: string, token: string, path: string, tally: ReadTally): Promise<void> {
  const started = now();
  const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const bytes = (await response.arrayBuffer()).byteLength;
  const ms = now() - started;
  if (response.status === 200) {
    tally.ok++;
    tally.latency.push(ms);
    tally.maxBytes = Math.max(tally.maxBytes, bytes);
  } else if (response.status === 503) tally.busy++;
  else tally.failed++;
}

const newTally = (): ReadTally => ({ latency: new Samples(), maxBytes: 0, ok: 0, busy: 0, failed: 0 });

/** Peak resident memory of a process while `work` runs, sampled every 50 ms. */
async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = residentBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, residentBytes(pid));
    } catch {
      // The process ended between two samples.
    }
  }, 50);
  try {
    return { result: await work(), peak };
  } finally {
    clearInterval(timer);
  }
}

/** `invctl rebuild inventory` from its build: wall time, peak RSS (VmHWM), exit code and its report. */
async function runRebuild(
  databaseUrl: string,
): Promise<{ ms: number; peakRss: number; code: number; out: string }> {
  const started = now();
  const child = spawn(
    process.execPath,
    [
      resolve(ROOT, 'tools/invctl/bin/invctl.js'),
      'rebuild',
      'inventory',
      '--database',
      databaseUrl,
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.resume();
  let peakRss = 0;
  const timer = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      if (hwm) peakRss = Math.max(peakRss, Number(hwm) * 1024);
    } catch {
      // Ended.
    }
  }, 25);
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? -1)));
  clearInterval(timer);
  return { ms: now() - started, peakRss, code, out };
}

const ms = (value: number) => Math.round(value * 10) / 10;

export const scale: Benchmark = {
  name: 'scale',
  description:
    'reads at catalogue scale: every read endpoint p99 and size, RSS beside 100 adjusts/s, rebuild',
  async run(ctx: BenchContext) {
    const size = sizeOf(ctx.quick);
    const inventory = ctx.bench.stack.inventory;
    const dbUrl = ctx.bench.stack.databases.inventory.url;
    const records = size.skus * size.warehouses;
    ctx.log(`scale: loading ${records} records × ${size.movements} movements`);
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    const loadStarted = now();
    let loaded: Awaited<ReturnType<typeof loadCatalogue>>;
    let loadMs: number;
    let plans: PlanSummary[];
    try {
      loaded = await loadCatalogue(db, size);
      loadMs = now() - loadStarted;
      ctx.log(`scale: loaded in ${(loadMs / 1000).toFixed(1)} s (${JSON.stringify(loaded.timings)})`);
      plans = await explainReads(db, size.warehouses);
    } finally {
      await db.end();
    }

    const durationMs = ctx.quick ? 1_000 : 5_000;
    const endpoints = readEndpoints(size);
    const rows: Record<string, Cell>[] = [];
    let readPeakRss = 0;
    for (const endpoint of endpoints) {
      ctx.log(`scale: ${endpoint.name}`);
      const tally = newTally();
      const { peak } = await peakRss(inventory.pid!, () =>
        closedLoop(READERS, durationMs, () => timedGet(inventory.url, ctx.token, endpoint.path(), tally)),
      );
      readPeakRss = Math.max(readPeakRss, peak);
      const s = tally.latency.summary();
      rows.push({
        phase: 'reads',
        endpoint: endpoint.name,
        requests: tally.ok,
        p50_ms: ms(s.p50),
        p99_ms: ms(s.p99),
        'p99/goal': ms(s.p99 / GOAL_P99_MS),
        max_kb: Math.round(tally.maxBytes / 1024),
        busy_503: tally.busy,
        failed: tally.failed,
        rss_mb: Math.round(peak / MB),
      });
    }

    ctx.log(`scale: ${READERS} readers over every endpoint beside ${ADJUSTS_PER_S} adjusts/s`);
    const mixedMs = ctx.quick ? 2_000 : 15_000;
    const mixedReads = newTally();
    let turn = 0;
    const mixed = await peakRss(inventory.pid!, () =>
      Promise.all([
        adjustAtRate(inventory.url, ctx.token, benchRecords('bench-scale', 100), {
          rate: ADJUSTS_PER_S,
          durationMs: mixedMs,
          timed: false,
        }),
        closedLoop(READERS, mixedMs, () =>
          timedGet(inventory.url, ctx.token, endpoints[turn++ % endpoints.length]!.path(), mixedReads),
        ),
      ]),
    );
    const [adjusts] = mixed.result;
    const adjust = adjusts.http.summary();
    const reads = mixedReads.latency.summary();
    rows.push({
      phase: 'mixed',
      endpoint: `adjust at ${ADJUSTS_PER_S}/s`,
      requests: adjusts.http.length,
      p50_ms: ms(adjust.p50),
      p99_ms: ms(adjust.p99),
      'p99/goal': ms(adjust.p99 / GOAL_P99_MS),
      max_kb: null,
      busy_503: null,
      failed: adjusts.failed,
      rss_mb: Math.round(mixed.peak / MB),
    });
    rows.push({
      phase: 'mixed',
      endpoint: 'every read, round robin',
      requests: mixedReads.ok,
      p50_ms: ms(reads.p50),
      p99_ms: ms(reads.p99),
      'p99/goal': ms(reads.p99 / GOAL_P99_MS),
      max_kb: Math.round(mixedReads.maxBytes / 1024),
      busy_503: mixedReads.busy,
      failed: mixedReads.failed,
      rss_mb: Math.round(mixed.peak / MB),
    });

    ctx.log('scale: invctl rebuild inventory');
    const rebuild = await runRebuild(dbUrl);
    let differences: number | null = null;
    try {
      differences = (JSON.parse(rebuild.out) as { differenceCount: number }).differenceCount;
    } catch {
      // Reported below as a failed rebuild.
    }
    rows.push({
      phase: 'rebuild',
      endpoint: `invctl rebuild inventory (${loaded.records + 100} records, ${loaded.movements}+ movements)`,
      requests: 1,
      p50_ms: ms(rebuild.ms),
      p99_ms: null,
      'p99/goal': null,
      max_kb: null,
      busy_503: null,
      failed: rebuild.code === 0 ? 0 : 1,
      rss_mb: Math.round(rebuild.peakRss / MB),
    });

    const readRows = rows.filter((r) => r.phase === 'reads');
    const worst = readRows.reduce((a, b) => ((b.p99_ms as number) > (a.p99_ms as number) ? b : a));
    const biggest = readRows.reduce((a, b) => ((b.max_kb as number) > (a.max_kb as number) ? b : a));
    const goals: Goal[] = [
      {
        text: `every read endpoint p99 < ${GOAL_P99_MS} ms with ${READERS} concurrent readers`,
        measured: `worst ${worst.endpoint} ${worst.p99_ms} ms (${worst['p99/goal']}× the goal)`,
        met: (worst.p99_ms as number) < GOAL_P99_MS,
      },
      {
        text: 'every response < 256 KB',
        measured: `largest ${biggest.endpoint} ${biggest.max_kb} KB`,
        met: Math.max(biggest.max_kb as number, mixedReads.maxBytes / 1024) * 1024 < GOAL_BYTES,
      },
      {
        text: 'inventory RSS < 300 MB during the reads',
        measured: `${Math.round(Math.max(readPeakRss, mixed.peak) / MB)} MB peak`,
        met: Math.max(readPeakRss, mixed.peak) < GOAL_RSS,
      },
      {
        text: `${ADJUSTS_PER_S} adjusts/s keep p99 < ${GOAL_P99_MS} ms beside the readers`,
        measured: `${ms(adjust.p99)} ms at ${adjusts.achievedRate.toFixed(0)}/s, ${adjusts.failed} failed`,
        met: adjust.p99 < GOAL_P99_MS && adjusts.failed === 0,
      },
      {
        text: 'invctl rebuild inventory: bounded memory, time reported, no differences',
        measured: `${(rebuild.ms / 1000).toFixed(1)} s, peak RSS ${Math.round(rebuild.peakRss / MB)} MB, ${differences ?? '?'} difference(s)`,
        met: rebuild.code === 0 && differences === 0 ? null : false,
      },
    ];
    return {
      name: 'scale',
      title: `Reads at catalogue scale: ${loaded.records} records, ${loaded.movements} ledger rows`,
      columns: [
        'phase',
        'endpoint',
        'requests',
        'p50_ms',
        'p99_ms',
        'p99/goal',
        'max_kb',
        'busy_503',
        'failed',
        'rss_mb',
      ],
      rows,
      goals,
      notes: [
        `loaded ${loaded.records} records (${size.skus} SKUs × ${size.warehouses} warehouses), ${loaded.movements} ledger rows, ${loaded.batches} batches, ${loaded.lowStock} below minimum in ${(loadMs / 1000).toFixed(1)} s (${Object.entries(
          loaded.timings,
        )
          .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
          .join(', ')})`,
        `${READERS} closed-loop readers for ${durationMs / 1000} s per endpoint; each request asks for other ids; list pages are the default 50`,
        'busy_503: reads refused by the read gate (READ_CONCURRENCY, READ_QUEUE) with SERVER_BUSY; they are not in the latency',
        `rss_mb: peak resident memory of the inventory process during the phase (of invctl for the rebuild row); rebuild time in p50_ms`,
        'the machine is shared (2 cores, other work running): figures are upper bounds of what the code needs',
        ...plans.map(
          (p) =>
            `EXPLAIN ${p.name}: ${p.ms} ms, ${p.rows} row(s), ${p.sharedBuffers} buffers${p.seqScan ? ', SEQ SCAN' : ''}: ${p.plan}`,
        ),
      ],
    };
  },
};
