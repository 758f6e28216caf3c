import { setTimeout as sleep } from 'node:timers/promises';
import { EVENTS_STREAM } from '@inv/contracts';
import { jetstream } from '@nats-io/jetstream';
import pg from 'pg';
import { benchRecords, postAdjust } from '../adjust.js';
import type { BenchContext, Benchmark } from './context.js';
import { paced } from '../pace.js';
import { Samples, summarize } from '../stats.js';

const PRODUCT = 'bench-relay';

/** Outbox write time (ms, in the committing transaction) of each event, by event id, once all are published. */
async function outboxTimes(databaseUrl: string, timeoutMs: number): Promise<Map<string, number>> {
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
      [`inventory.product.${PRODUCT}.%`],
    );
    return new Map(rows.rows.map((r) => [r.event_id, Number(r.created_ms)]));
  } finally {
    await client.end();
  }
}

/** Stream store time of each event (when JetStream acknowledged it), by `Nats-Msg-Id` = event id. */
async function streamTimes(ctx: BenchContext): Promise<Map<string, number>> {
  const consumer = await jetstream(ctx.nc).consumers.get(EVENTS_STREAM, {
    filter_subjects: `inventory.product.${PRODUCT}.>`,
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

/** Adjusts at R/s: from the outbox row written with the change to the JetStream ack of its event. */
export const relayLag: Benchmark = {
  name: 'relay-lag',
  description: 'outbox relay lag at R adjusts/s: from the outbox write (commit) to the JetStream ack',
  async run(ctx: BenchContext) {
    const { rate, durationMs } = ctx.quick ? { rate: 100, durationMs: 2_000 } : { rate: 500, durationMs: 8_000 };
    const url = ctx.bench.stack.inventory.url;
    const records = benchRecords(PRODUCT, 200);
    ctx.log(`relay-lag: ${rate} adjusts/s`);
    const http = new Samples();
    let failed = 0;
    const sent = await paced(
      rate,
      durationMs,
      async (i) => {
        const outcome = await postAdjust(url, ctx.token, records[i % records.length]!);
        if (outcome.status === 200) http.push(outcome.ms);
        else failed++;
      },
      256,
    );
    const written = await outboxTimes(ctx.bench.stack.databases.inventory.url, 30_000);
    const acked = await streamTimes(ctx);
    const lags: number[] = [];
    for (const [id, writtenAt] of written) {
      const ackedAt = acked.get(id);
      if (ackedAt !== undefined) lags.push(ackedAt - writtenAt);
    }
    if (lags.length === 0) throw new Error('relay-lag: no adjust reached the stream');
    const lag = summarize(lags);
    return {
      name: 'relay-lag',
      title: 'Outbox relay lag: outbox write → JetStream ack',
      columns: ['target adjusts/s', 'achieved adjusts/s', 'events', 'p50 ms', 'p99 ms', 'max ms', 'HTTP p99 ms', 'failed'],
      rows: [
        {
          'target adjusts/s': rate,
          'achieved adjusts/s': Math.round((http.length / sent.elapsedMs) * 1000),
          events: lags.length,
          'p50 ms': lag.p50,
          'p99 ms': lag.p99,
          'max ms': lag.max,
          'HTTP p99 ms': http.summary().p99,
          failed: failed + sent.skipped,
        },
      ],
      goals: [],
      notes: [
        'Lag = the stream\'s store timestamp of the event (JetStream acks right after storing) − `created_at` of its outbox row, written in the transaction just before commit (so it includes the commit itself). Matched by event id.',
      ],
    };
  },
};
