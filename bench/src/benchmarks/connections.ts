import { setTimeout as sleep } from 'node:timers/promises';
import { startClients } from '../load/client-pool.js';
import { residentBytes } from '../proc.js';
import type { BenchContext, Benchmark } from './context.js';

/** N idle connections on one gateway process: what each costs in resident memory. */
export const connections: Benchmark = {
  name: 'connections',
  description: 'N idle WebSocket connections on one gateway process: resident memory per connection',
  async run(ctx: BenchContext) {
    const count = ctx.quick ? 500 : 10_000;
    const gateway = ctx.bench.stack.gateways[0]!;
    // A fresh process: after the storms the gateway's heap still held their garbage, and its collection during
    // this run made the difference negative (623 → 301 MB, "-33 KB per connection", full run of 05:12).
    ctx.log('connections: restarting the gateway');
    await gateway.restart();
    const pid = gateway.pid;
    if (!pid) throw new Error('connections: the gateway is not running');
    await sleep(1_000);
    const before = residentBytes(pid);
    ctx.log(`connections: opening ${count} idle connections`);
    const pool = await startClients({
      target: 'gateway',
      url: ctx.bench.stack.gatewayUrl(0, `/ws?access_token=${ctx.token}`),
      count,
      concurrency: 200,
    });
    // Let the allocations of the connection storm settle (young-generation GC) before reading.
    await sleep(ctx.quick ? 1_000 : 3_000);
    const after = residentBytes(pid);
    const result = await pool.stop();
    const perConnection = (after - before) / count / 1024;
    return {
      name: 'connections',
      title: 'Connections: idle WebSocket connections on one gateway process',
      columns: [
        'connections',
        'RSS before MB',
        'RSS after MB',
        'KB per connection',
        'connect s',
        'connections/s',
        'dropped',
      ],
      rows: [
        {
          connections: count,
          'RSS before MB': before / 2 ** 20,
          'RSS after MB': after / 2 ** 20,
          'KB per connection': perConnection,
          'connect s': pool.connectMs / 1000,
          'connections/s': Math.round((count / pool.connectMs) * 1000),
          dropped: result.closedEarly,
        },
      ],
      goals: [
        {
          text: 'resident memory < 40 KB per connection',
          measured: `${perConnection.toFixed(1)} KB`,
          met: perConnection < 40,
        },
      ],
      notes: [
        'Each connection is authenticated (JWT) and on its default `global` channel, as a real client is; RSS read from /proc before and after, no forced GC, on a gateway process started for this benchmark.',
      ],
    };
  },
};
