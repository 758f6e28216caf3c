import pg from 'pg';
import { benchRecords, postAdjust } from '../adjust.js';
import type { BenchRecord } from '../events.js';
import { httpRequest, jsonOf } from '../http.js';
import { closedLoop } from '../pace.js';
import type { Cell, Goal } from '../report.js';
import { now, ratio, Samples } from '../stats.js';
import type { BenchContext, Benchmark } from './context.js';

const WRITERS = 32;

interface Answer {
  status: number;
  code: string | null;
  ms: number;
}

async function postReservation(
  url: string,
  token: string,
  record: BenchRecord,
  reference: string,
  expiresInSeconds = 900,
): Promise<Answer> {
  const started = now();
  const answer = await httpRequest(`${url}/api/reservations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reference, lines: [{ ...record, quantity: 1 }], expiresInSeconds }),
  });
  const body = jsonOf<{ code?: string }>(answer);
  return { status: answer.status, code: body?.code ?? null, ms: now() - started };
}

/** Runs `tasks` with at most `limit` in flight. */
async function bounded<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** 1,000 one-unit reservations, 100 in flight, against one record holding 100. */
async function flashSale(ctx: BenchContext) {
  const url = ctx.bench.stack.inventory.url;
  const [record] = benchRecords(`bench-flash-${Date.now()}`, 1);
  await postAdjust(url, ctx.token, record!, { quantity: 100 });
  const started = now();
  const answers = await bounded(1000, 100, (i) => postReservation(url, ctx.token, record!, `flash-${i}`));
  const elapsedMs = now() - started;
  const latency = new Samples();
  for (const a of answers) latency.push(a.ms);
  const held = answers.filter((a) => a.status === 201).length;
  const short = answers.filter((a) => a.status === 409 && a.code === 'INSUFFICIENT_STOCK').length;
  const others = new Map<string, number>();
  for (const a of answers) {
    if (a.status === 201 || (a.status === 409 && a.code === 'INSUFFICIENT_STOCK')) continue;
    const label = `${a.status} ${a.code ?? ''}`.trim();
    others.set(label, (others.get(label) ?? 0) + 1);
  }
  const otherText = [...others].map(([label, n]) => `${n}× ${label}`).join(', ');
  return { held, short, other: answers.length - held - short, otherText, elapsedMs, latency };
}

/** Reservations of one unit on `records` distinct records, closed loop. */
async function distinctViaService(ctx: BenchContext, durationMs: number) {
  const url = ctx.bench.stack.inventory.url;
  const records = benchRecords(`bench-res-${Date.now()}`, 100);
  for (const r of records) await postAdjust(url, ctx.token, r, { quantity: 1_000_000 });
  const latency = new Samples();
  let ok = 0;
  let failed = 0;
  const elapsedMs = await closedLoop(WRITERS, durationMs, async (worker) => {
    const answer = await postReservation(url, ctx.token, records[(worker + ok) % records.length]!, 'bench');
    if (answer.status === 201) {
      ok++;
      latency.push(answer.ms);
    } else if (++failed > 1_000) throw new Error('reservations: requests keep failing');
  });
  return { ok, failed, elapsedMs, latency };
}

/**
 * The same transaction raw over `pg`: the guarded update of the record, a ledger row, the reservation and its
 * line, an outbox row, committed together.
 */
async function distinctRaw(ctx: BenchContext, durationMs: number) {
  const pool = new pg.Pool({ connectionString: ctx.bench.stack.databases.inventory.url, max: WRITERS });
  try {
    await pool.query(
      `create table if not exists bench_res_record (id int primary key, available bigint, reserved bigint,
         version int);
       create table if not exists bench_res_ledger (id bigserial primary key, record int, version int, q int,
         reservation text);
       create table if not exists bench_res_reservation (id text primary key, reference text, expires_at timestamptz);
       create table if not exists bench_res_line (reservation text, line text, record int, quantity int);
       create table if not exists bench_res_outbox (id bigserial primary key, payload jsonb);
       truncate bench_res_record;
       insert into bench_res_record select g, 1000000, 0, 1 from generate_series(0, 99) g;`,
    );
    const latency = new Samples();
    let ok = 0;
    let seq = 0;
    const elapsedMs = await closedLoop(WRITERS, durationMs, async (worker) => {
      const started = now();
      const id = `r-${worker}-${seq++}`;
      const record = (worker + ok) % 100;
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(
          "insert into bench_res_reservation values ($1, $2, now() + interval '15 minutes')",
          [id, 'bench'],
        );
        await client.query('insert into bench_res_line values ($1, $2, $3, 1)', [id, 'l1', record]);
        const moved = await client.query<{ version: number }>(
          `update bench_res_record set available = available - 1, reserved = reserved + 1, version = version + 1
            where id = $1 and available >= 1 returning version`,
          [record],
        );
        await client.query(
          'insert into bench_res_ledger (record, version, q, reservation) values ($1, $2, 1, $3)',
          [record, moved.rows[0]!.version, id],
        );
        await client.query('insert into bench_res_outbox (payload) values ($1), ($2)', [
          JSON.stringify({ type: 'inventory.updated', record }),
          JSON.stringify({ type: 'inventory.reservation_created', id }),
        ]);
        await client.query('commit');
        ok++;
        latency.push(now() - started);
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    });
    return { ok, elapsedMs, latency };
  } finally {
    await pool.end();
  }
}

/**
 * `count` reservations due within the same second; how long after its expiry the last one was released, and
 * whether each was released exactly once (one `reservation_release` ledger row).
 */
async function expiry(ctx: BenchContext, count: number) {
  const url = ctx.bench.stack.inventory.url;
  const [record] = benchRecords(`bench-expiry-${Date.now()}`, 1);
  await postAdjust(url, ctx.token, record!, { quantity: count });
  const reference = `expiry-${Date.now()}`;
  // Far enough ahead that every reservation exists before the first is due.
  const dueAt = Math.ceil((Date.now() + count * 40 + 5_000) / 1000) * 1000;
  const answers = await bounded(count, 50, () =>
    postReservation(url, ctx.token, record!, reference, Math.max(1, Math.round((dueAt - Date.now()) / 1000))),
  );
  const created = answers.filter((a) => a.status === 201).length;
  const db = new pg.Client({ connectionString: ctx.bench.stack.databases.inventory.url });
  await db.connect();
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await db.query<{ n: number }>(
        `select count(*)::int as n from order_reservation where reference = $1 and state = 'active'`,
        [reference],
      );
      if (rows[0]!.n === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { rows } = await db.query<{
      expired: number;
      late_ms: number | null;
      releases: number;
      once: number;
    }>(
      `select count(*)::int as expired,
              max(extract(epoch from (r.updated_at - r.expires_at)) * 1000)::float as late_ms,
              sum(m.n)::int as releases, count(*) filter (where m.n = 1)::int as once
         from order_reservation r
         join (select reservation_id, count(*) as n from inventory_movement
                where movement_type = 'reservation_release' group by reservation_id) m using (reservation_id)
        where r.reference = $1 and r.state = 'expired'`,
      [reference],
    );
    const spread = await db.query<{ ms: number }>(
      `select (extract(epoch from max(expires_at) - min(expires_at)) * 1000)::float as ms
         from order_reservation where reference = $1`,
      [reference],
    );
    return { created, ...rows[0]!, spreadMs: spread.rows[0]!.ms };
  } finally {
    await db.end();
  }
}

export const reservations: Benchmark = {
  name: 'reservations',
  description: 'order reservations: flash sale (1,000 × 1 unit vs 100), throughput vs raw SQL, mass expiry',
  async run(ctx: BenchContext) {
    const durationMs = ctx.quick ? 1_500 : 5_000;
    const rows: Record<string, Cell>[] = [];
    const goals: Goal[] = [];

    ctx.log('reservations: flash sale');
    const flash = await flashSale(ctx);
    const rate = (ok: number, ms: number) => Math.round((ok / ms) * 1000);
    rows.push({
      case: 'flash sale: 1,000 × 1 unit against 100, 100 in flight',
      'requests/s': rate(1000, flash.elapsedMs),
      'p50 ms': flash.latency.summary().p50,
      'p99 ms': flash.latency.summary().p99,
      outcome: `${flash.held} held, ${flash.short} INSUFFICIENT_STOCK, ${flash.other} other${flash.other ? ` (${flash.otherText})` : ''}`,
    });
    goals.push({
      text: 'flash sale: exactly 100 held, 900 INSUFFICIENT_STOCK, nothing else',
      measured: `${flash.held} / ${flash.short} / ${flash.other}`,
      met: flash.held === 100 && flash.short === 900 && flash.other === 0,
    });

    ctx.log('reservations: distinct records');
    const service = await distinctViaService(ctx, durationMs);
    const raw = await distinctRaw(ctx, durationMs);
    rows.push(
      {
        case: `POST /api/reservations, ${WRITERS} writers, 100 records`,
        'requests/s': rate(service.ok, service.elapsedMs),
        'p50 ms': service.latency.summary().p50,
        'p99 ms': service.latency.summary().p99,
        outcome: `${service.ok} held, ${service.failed} failed`,
      },
      {
        case: 'raw: the same transaction over pg',
        'requests/s': rate(raw.ok, raw.elapsedMs),
        'p50 ms': raw.latency.summary().p50,
        'p99 ms': raw.latency.summary().p99,
        outcome: `${raw.ok} held`,
      },
    );
    const share = ratio(rate(service.ok, service.elapsedMs), rate(raw.ok, raw.elapsedMs));
    goals.push({
      text: 'distinct records: service ≥ 50% of the raw transaction',
      measured: share === null ? '–' : `${Math.round(share * 100)}%`,
      met: share === null ? null : share >= 0.5,
    });

    const count = ctx.quick ? 300 : 1000;
    ctx.log(`reservations: ${count} expiring in the same second`);
    const expired = await expiry(ctx, count);
    rows.push({
      case: `${count} reservations due within ${Math.round(expired.spreadMs)} ms`,
      'requests/s': null,
      'p50 ms': null,
      'p99 ms': null,
      outcome: `${expired.expired} expired, last ${Math.round(expired.late_ms ?? Number.NaN)} ms after its expiry, ${expired.once} released once (${expired.releases} releases)`,
    });
    goals.push({
      text: `expiry: ${count} released within 5 s of their expiry, each once`,
      measured: `${expired.expired}/${expired.created} within ${Math.round(expired.late_ms ?? Number.NaN)} ms, ${expired.once} once`,
      met: expired.expired === count && (expired.late_ms ?? Infinity) <= 5_000 && expired.once === count,
    });

    return {
      name: 'reservations',
      title: 'Order reservations',
      columns: ['case', 'requests/s', 'p50 ms', 'p99 ms', 'outcome'],
      rows,
      goals,
      notes: [
        'Flash sale: requests/s counts refusals too (a loser is refused on what its statement sees, without the row lock).',
        `Distinct records: ${durationMs / 1000} s closed loop per row; the raw row is the service's SQL (reservation, line, guarded update, ledger, outbox) without the service.`,
        'Expiry: the sweeper of one inventory instance, RESERVATION_SWEEP_INTERVAL_MS default (1 s), batches of 100.',
      ],
    };
  },
};
