import { setTimeout as sleep } from 'node:timers/promises';
import { benchRecords, postAdjust } from '../adjust.js';
import { timedReason } from '../events.js';
import { startClients } from '../load/client-pool.js';
import { paced } from '../pace.js';
import { now, Samples } from '../stats.js';
import type { Benchmark, BenchContext } from './context.js';

const PRODUCT = 'bench-e2e';

/** HTTP accept → commit → outbox relay → JetStream → gateway → every client, through the real services. */
export const endToEnd: Benchmark = {
  name: 'end-to-end',
  description: 'POST /api/inventory/adjust at R/s with N clients on the product: HTTP send → event at clients',
  async run(ctx: BenchContext) {
    const { clients, rate, durationMs } = ctx.quick
      ? { clients: 50, rate: 50, durationMs: 2_000 }
      : { clients: 1000, rate: 200, durationMs: 8_000 };
    const { stack } = ctx.bench;
    // Many records, so that no two concurrent adjusts contend: this measures the path, not the lock.
    const records = benchRecords(PRODUCT, 100);
    for (const record of records) await postAdjust(stack.inventory.url, ctx.token, record);
    ctx.log(`end-to-end: ${clients} clients, ${rate} adjusts/s`);
    const pool = await startClients({
      target: 'gateway',
      url: stack.gatewayUrl(0, `/ws?access_token=${ctx.token}`),
      count: clients,
      topic: `product:${PRODUCT}`,
    });
    const http = new Samples();
    let failed = 0;
    const sent = await paced(rate, durationMs, async (i) => {
      const sentAt = now();
      const outcome = await postAdjust(stack.inventory.url, ctx.token, records[i % records.length]!, {
        reason: timedReason(sentAt),
      });
      if (outcome.status === 200) http.push(outcome.ms);
      else failed++;
    });
    await sleep(ctx.quick ? 1_000 : 2_000);
    const result = await pool.stop();
    if (result.latency.count === 0) throw new Error('end-to-end: no event reached the clients');
    const httpSummary = http.summary();
    const p99 = result.latency.p99;
    return {
      name: 'end-to-end',
      title: 'End to end: adjust request sent → event at every client',
      columns: ['clients', 'adjusts/s', 'p50 ms', 'p99 ms', 'max ms', 'HTTP p50 ms', 'HTTP p99 ms', 'failed', 'delivered'],
      rows: [
        {
          clients,
          'adjusts/s': Math.round((http.length / sent.elapsedMs) * 1000),
          'p50 ms': result.latency.p50,
          'p99 ms': p99,
          'max ms': result.latency.max,
          'HTTP p50 ms': httpSummary.p50,
          'HTTP p99 ms': httpSummary.p99,
          failed: failed + sent.skipped,
          delivered: `${((100 * result.latency.count) / Math.max(1, http.length * clients)).toFixed(1)}%`,
        },
      ],
      goals: [{ text: 'p99 < 50 ms', measured: `${p99.toFixed(1)} ms`, met: p99 < 50 }],
      notes: [
        `${durationMs / 1000} s open-loop over 100 records (no contention); the request's send time travels in its \`reason\`, so latency starts before the HTTP request is written.`,
      ],
    };
  },
};
