import { liveSubject } from '@inv/contracts';
import { ServiceProcess } from '@inv/testkit';
import { casesFromEnv } from '../env-cases.js';
import { startClients } from '../load/client-pool.js';
import type { ClientsConfig, ClientsResult, Target } from '../load/protocol.js';
import { CpuMeter } from '../proc.js';
import { EventPublisher } from '../publisher.js';
import type { Cell, Goal } from '../report.js';
import { LatencyHistogram, ratio } from '../stats.js';
import type { BenchContext, Benchmark } from './context.js';

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

/**
 * The servers take turns, in rounds that alternate their order (A B C, C B A, …), and each server's rounds are
 * merged: a burst of load from elsewhere on a shared machine then falls on every server, not on one.
 */
function plan(quick: boolean) {
  // `BENCH_FANOUT_CASES=1000x200` runs only those cases (clients × events/s).
  const only = casesFromEnv('BENCH_FANOUT_CASES', ['clients', 'rate']);
  if (only) return { cases: only, rounds: 2, durationMs: 4_000, warmupMs: 1_000 };
  return quick
    ? { cases: [{ clients: 50, rate: 100 }], rounds: 1, durationMs: 2_000, warmupMs: 500 }
    : {
        cases: [
          { clients: 200, rate: 200 },
          { clients: 1000, rate: 100 },
        ],
        rounds: 2,
        durationMs: 4_000,
        warmupMs: 1_000,
      };
}

/** A server's rounds of one case, merged. */
class Merged {
  readonly latency = new LatencyHistogram();
  windowMs = 0;
  expected = 0;
  serverCpu: number[] = [];
  clientsCpu: number[] = [];

  add(result: ClientsResult, expected: number, serverCpu: number, clientsCpu: number): void {
    this.latency.merge(result.histogram);
    this.windowMs += result.windowMs;
    this.expected += expected;
    this.serverCpu.push(serverCpu);
    this.clientsCpu.push(clientsCpu);
  }
}

const mean = (values: number[]) => Math.round(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length));

export const fanout: Benchmark = {
  name: 'fanout',
  description: 'N WebSocket clients on one channel, events at R/s: delivery latency and frames/s per server',
  async run(ctx: BenchContext) {
    const { cases, rounds, durationMs, warmupMs } = plan(ctx.quick);
    const { stack, nc, natsWsUrl } = { ...ctx.bench, nc: ctx.nc };
    const natsSubject = liveSubject(`inventory.product.${PRODUCT}.>`);
    const relay = await ServiceProcess.start({
      entry: 'bench/dist/peers/socketio-relay.js',
      env: { ...ctx.serverEnv, NATS_URL: ctx.bench.nats.url, RELAY_SUBJECT: natsSubject, RELAY_ROOM: ROOM },
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
    const serverPid: Record<Target, () => number> = {
      gateway: () => stack.gateways[0]!.pid!,
      nats: () => ctx.bench.nats.pid!,
      socketio: () => relay.pid!,
    };
    const rows: Record<string, Cell>[] = [];
    const p99s = new Map<string, number>();
    const measure = async (c: Case, target: Target, label: string, merged: Merged) => {
      ctx.log(`fanout: ${c.clients} clients × ${c.rate}/s → ${label}`);
      const pool = await startClients(configs[target](c.clients));
      await publisher.run(c.rate, warmupMs, false);
      const cpu = new CpuMeter([serverPid[target](), pool.pid]);
      const published = await publisher.run(c.rate, durationMs);
      const [serverCpu, clientsCpu] = cpu.read();
      const expected = published.started * c.clients;
      const result = await pool.stop(expected);
      if (result.latency.count === 0) throw new Error(`fanout: ${label} delivered no events`);
      merged.add(result, expected, serverCpu!, clientsCpu!);
    };
    try {
      for (const c of cases as Case[]) {
        const merged = new Map(TARGETS.map(({ target }) => [target, new Merged()]));
        for (let round = 0; round < rounds; round++) {
          const order = round % 2 === 0 ? TARGETS : [...TARGETS].reverse();
          for (const { target, label } of order) await measure(c, target, label, merged.get(target)!);
        }
        for (const { target, label } of TARGETS) {
          const m = merged.get(target)!;
          const latency = m.latency.summary();
          rows.push({
            clients: c.clients,
            'events/s': c.rate,
            server: label,
            'p50 ms': latency.p50,
            'p99 ms': latency.p99,
            'max ms': latency.max,
            'frames/s': Math.round((latency.count / Math.max(1, m.windowMs)) * 1000),
            delivered: `${((100 * latency.count) / Math.max(1, m.expected)).toFixed(1)}%`,
            'server CPU %': mean(m.serverCpu),
            'clients CPU %': mean(m.clientsCpu),
          });
          p99s.set(`${c.clients}:${target}`, latency.p99);
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
      columns: [
        'clients',
        'events/s',
        'server',
        'p50 ms',
        'p99 ms',
        'max ms',
        'frames/s',
        'delivered',
        'server CPU %',
        'clients CPU %',
      ],
      rows,
      goals,
      notes: [
        `${rounds} round(s) of ${durationMs / 1000} s timed per server, each after ${warmupMs / 1000} s of warm-up, servers taking turns in alternating order; same client process code, same ~0.9 KB event, clients in one separate Node process; gateway clients ask for batched frames (\`?batch=1\`, several frames per WebSocket message when the gateway has several for them at once), as the SDK does by default (\`BENCH_WS_BATCH=0\`: one frame per message). Latencies within 1% (log histogram).`,
        'Every server reads the same republished `live.` messages of the EVENTS stream; the publisher stamps the send time into the event.',
        'CPU % is of one core during the timed publishing (100 = a core saturated): a server or client process near 100 is the bottleneck of its row. NATS-direct is nats-server (Go, may use both cores) and its cost in the client process is the nats.js client per connection.',
      ],
    };
  },
};
