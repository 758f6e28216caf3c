import { setTimeout as sleep } from 'node:timers/promises';
import { EVENTS_STREAM } from '@inv/contracts';
import { jetstream } from '@nats-io/jetstream';
import pg from 'pg';
import { adjustAtRate, benchRecords } from '../adjust.js';
import type { Cell } from '../report.js';
import { summarize } from '../stats.js';
import type { BenchContext, Benchmark } from './context.js';

/** Outbox write time (ms, in the committing transaction) of each event, by event id, once all are published. */
async function outboxTimes(
  databaseUrl: string,
  product: string,
  timeoutMs: number,
): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = await client.query(`select count(*)::int as n from outbox where published_at is null`);
      if (pending.rows[0].n === 0 || Date.now() > deadline) break;
      await sleep(100);
    }
    const rows = await client.query<{ event_id: string; created_ms: number }>(
      `select event_id, extract(epoch from created_at) * 1000 as created_ms from outbox
        where subject like $1 and published_at is not null`,
      [`inventory.product.${product}.%`],
    );
    return new Map(rows.rows.map((r) => [r.event_id, Number(r.created_ms)]));
  } finally {
    await client.end();
  }
}

/** Stream store time of each event (when JetStream acknowledged it), by `Nats-Msg-Id` = event id. */
async function streamTimes(ctx: BenchContext, product: string): Promise<Map<string, number>> {
  const consumer = await jetstream(ctx.nc).consumers.get(EVENTS_STREAM, {
    filter_subjects: `inventory.product.${product}.>`,
  });
  const times = new Map<string, number>();
  for (;;) {
    const message = await consumer.next({ expires: 2_000 });
    if (!message) return times;
    const id = message.headers?.get('Nats-Msg-Id');
    if (id) times.set(id, message.info.timestampNanos / 1e6);
    if (message.info.pending === 0) return times;
  }
}

/** Adjusts at `rate` per second (own product per rate): from each outbox row to the JetStream ack of its event. */
async function measure(ctx: BenchContext, rate: number, durationMs: number): Promise<Record<string, Cell>> {
  const product = `bench-relay-${rate}`;
  ctx.log(`relay-lag: ${rate} adjusts/s`);
  const load = await adjustAtRate(ctx.bench.stack.inventory.url, ctx.token, benchRecords(product, 200), {
    rate,
    durationMs,
    timed: false,
  });
  const written = await outboxTimes(ctx.bench.stack.databases.inventory.url, product, 30_000);
  const acked = await streamTimes(ctx, product);
  const lags: number[] = [];
  for (const [id, writtenAt] of written) {
    const ackedAt = acked.get(id);
    if (ackedAt !== undefined) lags.push(ackedAt - writtenAt);
  }
  if (lags.length === 0) throw new Error('relay-lag: no adjust reached the stream');
  const lag = summarize(lags);
  return {
    'target adjusts/s': rate,
    'achieved adjusts/s': Math.round(load.achievedRate),
    events: lags.length,
    'p50 ms': lag.p50,
    'p99 ms': lag.p99,
    'max ms': lag.max,
    'HTTP p99 ms': load.http.summary().p99,
    'not sent or failed': load.failed,
  };
}

export const relayLag: Benchmark = {
  name: 'relay-lag',
  description: 'outbox relay lag at R adjusts/s: from the outbox write (commit) to the JetStream ack',
  async run(ctx: BenchContext) {
    // The 500/s, and 100/s, which the inventory service sustains on a small machine.
    const { rates, durationMs } = ctx.quick
      ? { rates: [100], durationMs: 2_000 }
      : { rates: [100, 500], durationMs: 8_000 };
    const rows: Record<string, Cell>[] = [];
    for (const rate of rates) rows.push(await measure(ctx, rate, durationMs));
    return {
      name: 'relay-lag',
      title: 'Outbox relay lag: outbox write → JetStream ack',
      columns: Object.keys(rows[0]!),
      rows,
      goals: [],
      notes: [
        `${durationMs / 1000} s open-loop per row over 200 records, at most 256 requests in flight. Lag = the stream's store timestamp of the event (JetStream acks right after storing) − \`created_at\` of its outbox row (set when the row is written, just before commit, so the commit is included). Matched by event id.`,
      ],
    };
  },
};
