import pg from 'pg';
import { adjustAtRate, benchRecords } from '../adjust.js';
import { closedLoop } from '../pace.js';
import { cpuSeconds } from '../proc.js';
import type { Cell, Goal } from '../report.js';
import { explainReads } from '../scale/explain.js';
import { catalogueIds, loadCatalogue } from '../scale/loader.js';
import { newTally, peakRss, type ReadTally, runRebuild, timedGet } from '../scale/measure.js';
import { now, type Samples } from '../stats.js';
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

/**
 * Every read endpoint, each request with other ids (a random SKU and warehouse of the catalogue);
 * `BENCH_SCALE_ENDPOINTS` (comma-separated names) keeps some of them, e.g. to profile one read alone.
 */
function readEndpoints(size: Size): { name: string; path: () => string }[] {
  const only = process.env.BENCH_SCALE_ENDPOINTS?.split(',').map((name) => name.trim());
  const all = allEndpoints(size);
  return only ? all.filter((endpoint) => only.includes(endpoint.name)) : all;
}

function allEndpoints(size: Size): { name: string; path: () => string }[] {
  const ids = catalogueIds('cat');
  const sku = () => Math.floor(Math.random() * size.skus);
  const wh = () => Math.floor(Math.random() * size.warehouses);
  const record = () => ids.record(sku(), wh());
  return [
    { name: 'record', path: () => `/api/inventory/${record()}` },
    { name: 'movements', path: () => `/api/inventory/${record()}/movements` },
    { name: 'batches', path: () => `/api/inventory/${record()}/batches` },
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

const ms = (value: number) => Math.round(value * 10) / 10;

type Row = Record<string, Cell>;

const COLUMNS = [
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
  'cpu_ms/req',
];

/** Inventory CPU time (user + system) spent while `work` runs, in ms. */
async function cpuMsOf<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  const before = cpuSeconds(pid);
  const result = await work();
  return { result, cpuMs: (cpuSeconds(pid) - before) * 1000 };
}

/** CPU per answered request: what a read costs the service, whatever share of the machine it got. */
const perRequest = (cpuMs: number, requests: number) => (requests > 0 ? ms(cpuMs / requests) : null);

function readRow(phase: string, endpoint: string, tally: ReadTally, peak: number, cpuMs: number): Row {
  const s = tally.latency.summary();
  return {
    phase,
    endpoint,
    requests: tally.ok,
    p50_ms: ms(s.p50),
    p99_ms: ms(s.p99),
    'p99/goal': ms(s.p99 / GOAL_P99_MS),
    max_kb: Math.round(tally.maxBytes / 1024),
    busy_503: tally.busy,
    failed: tally.failed,
    rss_mb: Math.round(peak / MB),
    'cpu_ms/req': perRequest(cpuMs, tally.ok + tally.busy + tally.failed),
  };
}

async function loadAndExplain(ctx: BenchContext, size: Size) {
  ctx.log(`scale: loading ${size.skus * size.warehouses} records × ${size.movements} movements`);
  const db = new pg.Client({ connectionString: ctx.bench.stack.databases.inventory.url });
  await db.connect();
  try {
    const started = now();
    const loaded = await loadCatalogue(db, size);
    const loadMs = now() - started;
    ctx.log(`scale: loaded in ${(loadMs / 1000).toFixed(1)} s (${JSON.stringify(loaded.timings)})`);
    return { loaded, loadMs, plans: await explainReads(db, size.warehouses) };
  } finally {
    await db.end();
  }
}

/** 20 closed-loop readers on each endpoint in turn. */
async function eachEndpoint(ctx: BenchContext, size: Size, durationMs: number) {
  const inventory = ctx.bench.stack.inventory;
  const rows: Row[] = [];
  let peak = 0;
  for (const endpoint of readEndpoints(size)) {
    ctx.log(`scale: ${endpoint.name}`);
    // Unmeasured first: the first endpoint after the load otherwise measured the process's and the caches' start.
    const warmUp = newTally();
    await closedLoop(READERS, durationMs / 5, () =>
      timedGet(inventory.url, ctx.token, endpoint.path(), warmUp),
    );
    const tally = newTally();
    const run = await peakRss(inventory.pid!, () =>
      cpuMsOf(inventory.pid!, () =>
        closedLoop(READERS, durationMs, () => timedGet(inventory.url, ctx.token, endpoint.path(), tally)),
      ),
    );
    peak = Math.max(peak, run.peak);
    rows.push(readRow('reads', endpoint.name, tally, run.peak, run.result.cpuMs));
  }
  return { rows, peak };
}

/**
 * The readers over every endpoint in turn, beside adjusts at ADJUSTS_PER_S. The adjusts of the first
 * `warmupMs` have a row of their own: they are the first this inventory process serves (the reads before warmed
 * only the read path), and were ~2% of the phase's adjusts, so they alone made its p99 (35 adjusts at 110–230 ms
 * in a 15 s phase whose seconds after the first each had a worst of 43–63 ms).
 */
async function readsBesideAdjusts(ctx: BenchContext, size: Size, durationMs: number, warmupMs: number) {
  ctx.log(`scale: ${READERS} readers over every endpoint beside ${ADJUSTS_PER_S} adjusts/s`);
  const inventory = ctx.bench.stack.inventory;
  const endpoints = readEndpoints(size);
  const reads = newTally();
  let turn = 0;
  const run = await peakRss(inventory.pid!, () =>
    cpuMsOf(inventory.pid!, () =>
      Promise.all([
        adjustAtRate(inventory.url, ctx.token, benchRecords('bench-scale', 100), {
          rate: ADJUSTS_PER_S,
          durationMs,
          timed: false,
          warmupMs,
        }),
        closedLoop(READERS, durationMs, () =>
          timedGet(inventory.url, ctx.token, endpoints[turn++ % endpoints.length]!.path(), reads),
        ),
      ]),
    ),
  );
  const [adjusts] = run.result.result;
  const { cpuMs } = run.result;
  const adjustRow = (
    endpoint: string,
    samples: Samples,
    failed: number | null,
    cpuMsPerRequest: Cell,
  ): Row => {
    const summary = samples.summary();
    return {
      phase: 'mixed',
      endpoint,
      requests: samples.length,
      p50_ms: ms(summary.p50),
      p99_ms: ms(summary.p99),
      'p99/goal': ms(summary.p99 / GOAL_P99_MS),
      max_kb: null,
      busy_503: null,
      failed,
      rss_mb: Math.round(run.peak / MB),
      'cpu_ms/req': cpuMsPerRequest,
    };
  };
  const requests =
    adjusts.http.length + adjusts.warmup.length + adjusts.failed + reads.ok + reads.busy + reads.failed;
  return {
    rows: [
      adjustRow(
        `adjust at ${ADJUSTS_PER_S}/s, first ${warmupMs / 1000} s (cold)`,
        adjusts.warmup,
        null,
        null,
      ),
      // The process's CPU over the phase, per request of either kind.
      adjustRow(
        `adjust at ${ADJUSTS_PER_S}/s, after`,
        adjusts.http,
        adjusts.failed,
        perRequest(cpuMs, requests),
      ),
      readRow('mixed', 'every read, round robin', reads, run.peak, cpuMs),
    ],
    peak: run.peak,
    adjusts,
    maxBytes: reads.maxBytes,
  };
}

export const scale: Benchmark = {
  name: 'scale',
  description:
    'reads at catalogue scale: every read endpoint p99 and size, RSS beside 100 adjusts/s, rebuild',
  async run(ctx: BenchContext) {
    const size = sizeOf(ctx.quick);
    const durationMs = ctx.quick ? 1_000 : 5_000;
    const { loaded, loadMs, plans } = await loadAndExplain(ctx, size);
    const reads = await eachEndpoint(ctx, size, durationMs);
    const coldMs = ctx.quick ? 500 : 1_000;
    const mixed = await readsBesideAdjusts(ctx, size, ctx.quick ? 2_000 : 16_000, coldMs);
    ctx.log('scale: invctl rebuild inventory');
    const rebuild = await runRebuild(ctx.bench.stack.databases.inventory.url);
    const rebuildRow: Row = {
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
      'cpu_ms/req': null,
    };

    const worst = reads.rows.reduce((a, b) => ((b.p99_ms as number) > (a.p99_ms as number) ? b : a));
    const biggest = reads.rows.reduce((a, b) => ((b.max_kb as number) > (a.max_kb as number) ? b : a));
    const peak = Math.max(reads.peak, mixed.peak);
    const adjust = mixed.adjusts.http.summary();
    const goals: Goal[] = [
      {
        text: `every read endpoint p99 < ${GOAL_P99_MS} ms with ${READERS} concurrent readers`,
        measured: `worst ${worst.endpoint} ${worst.p99_ms} ms (${worst['p99/goal']}× the goal)`,
        met: (worst.p99_ms as number) < GOAL_P99_MS,
      },
      {
        text: 'every response < 256 KB',
        measured: `largest ${biggest.endpoint} ${biggest.max_kb} KB`,
        met: Math.max((biggest.max_kb as number) * 1024, mixed.maxBytes) < GOAL_BYTES,
      },
      {
        text: 'inventory RSS < 300 MB during the reads',
        measured: `${Math.round(peak / MB)} MB peak`,
        met: peak < GOAL_RSS,
      },
      {
        text: `${ADJUSTS_PER_S} adjusts/s keep p99 < ${GOAL_P99_MS} ms beside the readers`,
        measured: `${ms(adjust.p99)} ms at ${mixed.adjusts.achievedRate.toFixed(0)}/s after the first ${coldMs / 1000} s (${ms(mixed.adjusts.warmup.summary().p99)} ms in it), ${mixed.adjusts.failed} failed or not sent`,
        met: adjust.p99 < GOAL_P99_MS && mixed.adjusts.failed === 0,
      },
      {
        text: 'invctl rebuild inventory: bounded memory, time reported, no differences',
        measured: `${(rebuild.ms / 1000).toFixed(1)} s, peak RSS ${Math.round(rebuild.peakRss / MB)} MB, ${rebuild.differences ?? '?'} difference(s)`,
        met: rebuild.code === 0 && rebuild.differences === 0 ? null : false,
      },
    ];
    const steps = Object.entries(loaded.timings)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
      .join(', ');
    return {
      name: 'scale',
      title: `Reads at catalogue scale: ${loaded.records} records, ${loaded.movements} ledger rows`,
      columns: COLUMNS,
      rows: [...reads.rows, ...mixed.rows, rebuildRow],
      goals,
      notes: [
        `loaded ${loaded.records} records (${size.skus} SKUs × ${size.warehouses} warehouses), ${loaded.movements} ledger rows, ${loaded.batches} batches, ${loaded.lowStock} below minimum in ${(loadMs / 1000).toFixed(1)} s (${steps})`,
        `${READERS} closed-loop readers for ${durationMs / 1000} s per endpoint after ${durationMs / 5000} s unmeasured; each request asks for other ids; list pages are the default 50; the mixed phase starts cold: the adjusts of its first ${coldMs / 1000} s (the first this process serves) have their own row, the goal is on those after it`,
        'busy_503: reads refused by the read gate (READ_CONCURRENCY, READ_QUEUE) with SERVER_BUSY; they are not in the latency',
        'failed (adjusts): errors and adjusts not sent because 256 were in flight',
        'rss_mb: peak resident memory of the inventory process during the phase (of invctl for the rebuild row); rebuild time in p50_ms',
        'the machine is shared (2 cores, other work running): figures are upper bounds of what the code needs',
        ...plans.map(
          (p) =>
            `EXPLAIN ${p.name}: ${p.ms} ms, ${p.rows} row(s), ${p.sharedBuffers} buffers${p.seqScan ? ', SEQ SCAN' : ''}: ${p.plan}`,
        ),
      ],
    };
  },
};
