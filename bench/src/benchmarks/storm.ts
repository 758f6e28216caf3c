import { liveSubject } from '@inv/contracts';
import { eventually, fetchJson, metricValue, ServiceProcess } from '@inv/testkit';
import { casesFromEnv } from '../env-cases.js';
import type { BenchRecord } from '../events.js';
import { StormPool } from '../load/storm-pool.js';
import type { StormResult, StormTarget } from '../load/storm-protocol.js';
import { cpuSeconds, residentBytes } from '../proc.js';
import type { Cell, Goal } from '../report.js';
import { ratio, summarize } from '../stats.js';
import { publishStored } from '../stored.js';
import type { BenchContext, Benchmark } from './context.js';

interface Case {
  clients: number;
  missed: number;
}

const LABELS: Record<StormTarget, string> = {
  gateway: 'gateway (cursor, JetStream)',
  socketio: 'Socket.IO 4 (connection-state recovery)',
};
/** Handshakes in flight at once: the listen backlogs (511) would drop more SYNs and add 1 s retransmits. */
const CONCURRENCY = 500;
const RECOVERY_MS = 120_000;

function plan(quick: boolean) {
  // `BENCH_STORM_CASES=10000x50,1000x20` runs only those cases.
  const only = casesFromEnv('BENCH_STORM_CASES', ['clients', 'missed']);
  const rounds = Number(process.env.BENCH_STORM_ROUNDS ?? 2);
  if (only) return { cases: only, rounds, timeoutMs: 60_000 };
  return quick
    ? { cases: [{ clients: 100, missed: 20 }], rounds: 2, timeoutMs: 20_000 }
    : {
        cases: [
          { clients: 1000, missed: 200 },
          { clients: 1000, missed: 20 },
          { clients: 10_000, missed: 50 },
        ],
        // Three, so that the median is a round's own figure, not the faster of two.
        rounds: 3,
        timeoutMs: 60_000,
      };
}

/** The peak resident memory of a process while `work` runs, sampled every 50 ms. */
async function peakRss<T>(pid: number, work: Promise<T>): Promise<{ value: T; peak: number }> {
  let peak = residentBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, residentBytes(pid));
  }, 50);
  try {
    const value = await work;
    return { value, peak: Math.max(peak, residentBytes(pid)) };
  } finally {
    clearInterval(timer);
  }
}

/** One server's side of a case: its clients, its record (events numbered from 1) and its rounds. */
interface Side {
  target: StormTarget;
  pool: StormPool;
  record: BenchRecord;
  version: number;
  pid: () => number;
  /** Resolves once the server has noticed every client gone and holds every event published so far. */
  settled: (version: number) => Promise<void>;
  results: StormResult[];
  rssBefore: number;
  rssGrowth: number[];
  /** The server's user + system CPU seconds per storm: its own cost, which a loaded machine does not inflate. */
  cpu: number[];
}

async function stormRound(ctx: BenchContext, side: Side, missed: number, timeoutMs: number, measured = true) {
  // The event every client's cursor (or Socket.IO offset) points at when the connections drop.
  await publishStored(ctx.nc, side.record, 1, side.version++);
  await side.pool.awaitVersion(side.version);
  await side.pool.drop();
  await publishStored(ctx.nc, side.record, missed, side.version);
  side.version += missed;
  await side.settled(side.version);
  const pid = side.pid();
  const before = residentBytes(pid);
  const cpuBefore = cpuSeconds(pid);
  const { value: result, peak } = await peakRss(pid, side.pool.reconnect(missed, timeoutMs));
  if (!measured) return result;
  side.cpu.push(cpuSeconds(pid) - cpuBefore);
  side.rssBefore ||= before;
  side.rssGrowth.push(peak - before);
  side.results.push(result);
  return result;
}

function row(c: Case, side: Side, rounds: number): Record<string, Cell> {
  const all = summarize(side.results.map((r) => r.allMs));
  const sum = (pick: (r: StormResult) => number) => side.results.reduce((total, r) => total + pick(r), 0);
  return {
    clients: c.clients,
    missed: c.missed,
    server: LABELS[side.target],
    rounds,
    'all live ms (median)': all.p50,
    'all live ms (worst)': all.max,
    'client p50 ms': summarize(side.results.map((r) => r.p50Ms)).p50,
    'client p99 ms': summarize(side.results.map((r) => r.p99Ms)).p50,
    'exact clients': `${sum((r) => r.complete)}/${c.clients * rounds}`,
    gaps: sum((r) => r.gaps),
    duplicates: sum((r) => r.duplicates),
    'not recovered': sum((r) => r.notRecovered),
    'server RSS MB': side.rssBefore / 2 ** 20,
    'RSS growth MB': Math.max(...side.rssGrowth) / 2 ** 20,
    'server CPU s (median)': summarize(side.cpu).p50,
  };
}

export const storm: Benchmark = {
  name: 'storm',
  description:
    'N clients that all missed K events reconnect at once with their cursors: time until all are live',
  async run(ctx: BenchContext) {
    const { cases, rounds, timeoutMs } = plan(ctx.quick);
    const { stack } = ctx.bench;
    const gateway = stack.gateways[0]!;
    const rows: Record<string, Cell>[] = [];
    const goals: Goal[] = [];
    for (const [index, c] of cases.entries()) {
      const product = (target: StormTarget) => `bench-storm-${index}-${target}`;
      const relay = await ServiceProcess.start({
        entry: 'bench/dist/peers/socketio-relay.js',
        env: {
          ...ctx.serverEnv,
          NATS_URL: ctx.bench.nats.url,
          RELAY_SUBJECT: liveSubject(`inventory.product.${product('socketio')}.>`),
          RELAY_ROOM: 'storm',
          RELAY_RECOVERY_MS: String(RECOVERY_MS),
        },
      });
      const relayStats = async () =>
        (await fetchJson<{ relayed: number; clients: number }>(`${relay.url}/stats`)).body;
      const sides: Side[] = [];
      try {
        ctx.log(`storm: connecting ${c.clients} clients to each server`);
        const side = async (target: StormTarget, url: string, topic: string): Promise<Side> => ({
          target,
          pool: await StormPool.start({ target, url, count: c.clients, topic, concurrency: CONCURRENCY }),
          record: { productId: product(target), warehouseId: 'w-0' },
          version: 0,
          pid: target === 'gateway' ? () => gateway.pid! : () => relay.pid!,
          settled:
            target === 'gateway'
              ? // Stored events are in the stream once acknowledged; the gateway must only have seen the drop.
                () =>
                  eventually(
                    async () =>
                      (await metricValue(gateway.url, 'gateway_connections', 'endpoint="/ws",')) === 0,
                    { timeoutMs: 30_000, intervalMs: 20, message: 'the gateway to see its clients gone' },
                  ).then(() => undefined)
              : // Socket.IO keeps what it relayed in memory: every missed packet must have reached it.
                (version) =>
                  eventually(
                    async () => {
                      const stats = await relayStats();
                      return stats.clients === 0 && stats.relayed >= version;
                    },
                    { timeoutMs: 30_000, intervalMs: 20, message: 'the relay to hold every missed event' },
                  ).then(() => undefined),
          results: [],
          rssBefore: 0,
          rssGrowth: [],
          cpu: [],
        });
        sides.push(
          await side(
            'gateway',
            stack.gatewayUrl(0, `/ws?access_token=${ctx.token}`),
            `product:${product('gateway')}`,
          ),
        );
        sides.push(await side('socketio', relay.url, 'storm'));
        // One storm each, not timed, first: a deploy's clients come back to instances that have been serving
        // (their code optimised by the JIT), and the first resumes of a fresh process measure its compiler.
        const storms = [
          ...sides.map((s) => ({ s, measured: false })),
          ...Array.from({ length: rounds }, (_, round) =>
            // Alternating order: whatever else loads the machine falls on both servers alike.
            (round % 2 === 0 ? sides : [...sides].reverse()).map((s) => ({ s, measured: true })),
          ).flat(),
        ];
        for (const { s, measured } of storms) {
          const result = await stormRound(ctx, s, c.missed, timeoutMs, measured);
          ctx.log(
            `storm: ${c.clients} × ${c.missed} missed → ${s.target}${measured ? '' : ' (warm-up)'}: all live in ${Number.isFinite(result.allMs) ? result.allMs.toFixed(0) : '(not all)'} ms, ` +
              `${result.complete}/${c.clients} exact, ${result.gaps} gaps, ${result.duplicates} duplicates` +
              (measured ? `, server CPU ${s.cpu.at(-1)!.toFixed(2)} s` : ''),
          );
          if (
            s.target === 'gateway' &&
            (result.complete !== c.clients || result.gaps > 0 || result.duplicates > 0)
          )
            throw new Error(
              `storm: the gateway resumed ${result.complete} of ${c.clients} clients exactly ` +
                `(${result.gaps} gaps, ${result.duplicates} duplicates)`,
            );
        }
      } finally {
        await Promise.all(sides.map((s) => s.pool.stop()));
        await relay.stop();
      }
      for (const s of sides) rows.push(row(c, s, rounds));
      const [ours, theirs] = sides.map((s) => summarize(s.results.map((r) => r.allMs)).p50);
      if (c.clients <= 1000) {
        const vs = ratio(ours!, theirs!);
        goals.push({
          text: `${c.clients} clients × ${c.missed} missed: all live with exactly their events in ≤ 1.0× Socket.IO's time`,
          measured: `${ours!.toFixed(0)} ms vs ${theirs!.toFixed(0)} ms (${vs ?? '–'}×)`,
          met: vs === null ? null : vs <= 1.0,
        });
      }
      if (index === cases.length - 1) {
        const growth = Math.max(...sides[0]!.rssGrowth) / 2 ** 20;
        goals.push({
          text: `${c.clients.toLocaleString('en')} clients × ${c.missed} missed on one gateway: all live in < 5 s`,
          measured: `${ours!.toFixed(0)} ms (median of ${rounds}), gateway RSS growth ${growth.toFixed(0)} MB`,
          met: ours! < 5_000,
        });
      }
    }
    return {
      name: 'storm',
      title: 'Reconnect storm: N clients that missed K events come back at the same moment',
      columns: [
        'clients',
        'missed',
        'server',
        'rounds',
        'all live ms (median)',
        'all live ms (worst)',
        'client p50 ms',
        'client p99 ms',
        'exact clients',
        'gaps',
        'duplicates',
        'not recovered',
        'server RSS MB',
        'RSS growth MB',
        'server CPU s (median)',
      ],
      rows,
      goals,
      notes: [
        `Per round: one event every client sees (its cursor / Socket.IO offset), every connection cut at once (gateway: TCP reset; Socket.IO: the transport closed, which its recovery treats as a blip), K events stored in the stream (and relayed by the Socket.IO relay from the same \`live.\` subject), then every client reconnects at once (${CONCURRENCY} handshakes in flight) and resumes. Timed from the reconnect order to the last client live with exactly its K events (gateway: the \`live\` frame; Socket.IO: \`connect\` with \`recovered\`, the missed packets arrive before it). Each server first has one storm of the case that is not timed (its exactness still checked): a deploy's clients come back to instances that have been serving.`,
        'Every event a client ever receives is checked against the version it expects next: a gap or a duplicate is counted wherever it happens. Same client process code for both servers (each event parsed once), gateway clients asking for batched frames as the SDK does by default (`?batch=1`; `BENCH_WS_BATCH=0` turns it off); servers take turns in alternating order.',
        "Server CPU is the server process's user + system CPU time during the storm (from /proc): its own cost, which the machine's load does not inflate the way it does wall-clock times.",
        "RSS growth is the server's peak resident memory during the storm minus before it (the worst round). Socket.IO's recovery holds the missed packets in one process's memory for 2 minutes and forgets them when that process dies; the gateway resumes from the stream, on any instance.",
      ],
    };
  },
};
