import { setTimeout as sleep } from 'node:timers/promises';
import { liveSubject } from '@inv/contracts';
import { ServiceProcess } from '@inv/testkit';
import { startClients } from '../load/client-pool.js';
import type { ClientsConfig, Target } from '../load/protocol.js';
import { EventPublisher } from '../publisher.js';
import type { Cell, Goal } from '../report.js';
import { ratio } from '../stats.js';
import type { Benchmark, BenchContext } from './context.js';

const PRODUCT = 'bench-fanout';
const ROOM = 'fanout';
const TARGETS: Array<{ target: Target; label: string }> = [
  { target: 'nats', label: 'NATS-direct (wsconnect)' },
  { target: 'gateway', label: 'gateway' },
  { target: 'socketio', label: 'Socket.IO 4 relay' },
];

interface Case {
  clients: number;
  rate: number;
}

function plan(quick: boolean) {
  return quick
    ? { cases: [{ clients: 50, rate: 100 }], durationMs: 2_000, warmupMs: 500, drainMs: 1_000 }
    : {
        cases: [
          { clients: 200, rate: 200 },
          { clients: 1000, rate: 100 },
        ],
        durationMs: 8_000,
        warmupMs: 1_000,
        drainMs: 1_500,
      };
}

export const fanout: Benchmark = {
  name: 'fanout',
  description: 'N WebSocket clients on one channel, events at R/s: delivery latency and frames/s per server',
  async run(ctx: BenchContext) {
    const { cases, durationMs, warmupMs, drainMs } = plan(ctx.quick);
    const { stack, nc, natsWsUrl } = { ...ctx.bench, nc: ctx.nc };
    const natsSubject = liveSubject(`inventory.product.${PRODUCT}.>`);
    const relay = await ServiceProcess.start({
      entry: 'bench/dist/peers/socketio-relay.js',
      env: { NATS_URL: ctx.bench.nats.url, RELAY_SUBJECT: natsSubject, RELAY_ROOM: ROOM },
    });
    const publisher = new EventPublisher(nc, { productId: PRODUCT, warehouseId: 'w-0' });
    const configs: Record<Target, (count: number) => ClientsConfig> = {
      gateway: (count) => ({
        target: 'gateway',
        url: stack.gatewayUrl(0, `/ws?access_token=${ctx.token}`),
        count,
        topic: `product:${PRODUCT}`,
      }),
      nats: (count) => ({ target: 'nats', url: natsWsUrl, count, topic: natsSubject }),
      socketio: (count) => ({ target: 'socketio', url: relay.url, count, topic: ROOM }),
    };
    const rows: Record<string, Cell>[] = [];
    const p99s = new Map<string, number>();
    try {
      for (const c of cases as Case[]) {
        for (const { target, label } of TARGETS) {
          ctx.log(`fanout: ${c.clients} clients × ${c.rate}/s → ${label}`);
          const pool = await startClients(configs[target](c.clients));
          await publisher.run(c.rate, warmupMs, false);
          const published = await publisher.run(c.rate, durationMs);
          await sleep(drainMs);
          const result = await pool.stop();
          const expected = published.started * c.clients;
          rows.push({
            clients: c.clients,
            'events/s': c.rate,
            server: label,
            'p50 ms': result.latency.p50,
            'p99 ms': result.latency.p99,
            'max ms': result.latency.max,
            'frames/s': Math.round((result.latency.count / Math.max(1, result.windowMs)) * 1000),
            delivered: `${((100 * result.latency.count) / Math.max(1, expected)).toFixed(1)}%`,
            'connect s': Math.round(pool.connectMs / 100) / 10,
          });
          p99s.set(`${c.clients}:${target}`, result.latency.p99);
          if (result.latency.count === 0) throw new Error(`fanout: ${label} delivered no events`);
        }
      }
    } finally {
      await relay.stop();
    }
    const largest = (cases as Case[]).at(-1)!;
    const key = (t: Target) => p99s.get(`${largest.clients}:${t}`) ?? Number.NaN;
    const vsNats = ratio(key('gateway'), key('nats'));
    const vsSocketIo = ratio(key('gateway'), key('socketio'));
    const goals: Goal[] = [
      {
        text: `gateway p99 ≤ 1.5× NATS-direct at ${largest.clients} clients × ${largest.rate}/s`,
        measured: `${vsNats ?? '–'}×`,
        met: vsNats === null ? null : vsNats <= 1.5,
      },
      {
        text: `gateway p99 ≤ 0.3× Socket.IO at ${largest.clients} clients × ${largest.rate}/s`,
        measured: `${vsSocketIo ?? '–'}×`,
        met: vsSocketIo === null ? null : vsSocketIo <= 0.3,
      },
    ];
    return {
      name: 'fanout',
      title: 'Fan-out: delivery latency (publish → client receipt) and frames/s',
      columns: ['clients', 'events/s', 'server', 'p50 ms', 'p99 ms', 'max ms', 'frames/s', 'delivered', 'connect s'],
      rows,
      goals,
      notes: [
        `${durationMs / 1000} s timed per server after ${warmupMs / 1000} s of warm-up; one server at a time, same client process code, same ~0.9 KB event, clients in one separate Node process.`,
        'Every server reads the same republished `live.` messages of the EVENTS stream; the publisher stamps the send time into the event.',
      ],
    };
  },
};
