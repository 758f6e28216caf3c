import WebSocket from 'ws';
import { now, summarize } from '../stats.js';
import { publishStored } from '../stored.js';
import type { BenchContext, Benchmark } from './context.js';

const PRODUCT = 'bench-replay';

interface Frame {
  type: string;
  channel?: string;
  cursor?: string;
  replayed?: number;
  data?: { warehouseId?: string; version?: number };
}

/** What a client received on the channel, per record: exactness is checked per record. */
interface Received {
  /** Events of each warehouse's record, in arrival order (their versions). */
  versions: Map<string, number[]>;
  /** The `live` frame came (the events the gateway had routed when it resumed were sent before it). */
  live: boolean;
}

/**
 * Opens a gateway connection, subscribes (with a cursor or not) and resolves once `until` accepts what has been
 * received, checked after every frame of the channel.
 */
function subscribe(
  url: string,
  channel: string,
  cursor: string | undefined,
  until: (f: Frame, received: Received) => boolean,
) {
  return new Promise<{ frame: Frame; received: Received; socket: WebSocket }>((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const received: Received = { versions: new Map(), live: false };
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('replay: no answer within 60 s'));
    }, 60_000);
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      // Only the channel's own: the connection's default `global` subscription may carry live events too
      // until the explicit subscription replaces it.
      if (frame.type === 'inventory.updated' && frame.channel === channel) {
        const warehouse = frame.data?.warehouseId ?? '?';
        const versions = received.versions.get(warehouse) ?? [];
        versions.push(frame.data?.version ?? -1);
        received.versions.set(warehouse, versions);
      } else if (frame.type === 'error' || frame.type === 'reset')
        reject(new Error(`replay: ${data.toString()}`));
      if (frame.type === 'live' && frame.channel === channel) received.live = true;
      if (frame.channel === channel && until(frame, received)) {
        clearTimeout(timer);
        resolve({ frame, received, socket });
      }
    });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'subscribe', channel, cursor })));
    socket.once('error', reject);
  });
}

/**
 * The round's record must arrive exactly: versions 1..missed, in order. The cursor of the first subscription is
 * the gateway's live position, which may still be behind the previous round's last events (they were stored, not
 * yet routed): those are then missed too and replayed, each once and in order, and are not counted.
 */
function checkExactlyMissed(received: Received, warehouse: string, missed: number): number {
  const summary = [...received.versions]
    .map(([key, v]) => `${key}: ${v.length} events, ${v[0]}..${v.at(-1)}`)
    .join('; ');
  for (const [key, versions] of received.versions) {
    versions.forEach((version, i) => {
      if (i > 0 && version !== versions[i - 1]! + 1)
        throw new Error(`replay: record ${key} got version ${version} after ${versions[i - 1]} (${summary})`);
    });
  }
  const round = received.versions.get(warehouse) ?? [];
  if (round.length !== missed || round[0] !== 1)
    throw new Error(
      `replay: ${round.length} events of the round's record replayed, ${missed} expected (${summary})`,
    );
  return round.length;
}

/** A client that missed `missed` events reconnects with its cursor: how long until it is caught up and live. */
export const replay: Benchmark = {
  name: 'replay',
  description: 'a client that missed K events reconnects with its cursor: time until caught up and live',
  async run(ctx: BenchContext) {
    const { missed, rounds } = ctx.quick ? { missed: 1_000, rounds: 2 } : { missed: 10_000, rounds: 5 };
    const channel = `product:${PRODUCT}`;
    const url = ctx.bench.stack.gatewayUrl(0, `/ws?access_token=${ctx.token}`);
    const times: number[] = [];
    let replayed = 0;
    for (let round = 0; round < rounds; round++) {
      const record = { productId: PRODUCT, warehouseId: `w-${round}` };
      const first = await subscribe(url, channel, undefined, (f) => f.type === 'subscribed');
      first.socket.close();
      await publishStored(ctx.nc, record, missed, 0);
      const started = now();
      // Caught up: live, and every missed event arrived. Events stored but not yet routed by the gateway when it
      // resumed come after `live`, with the live ones.
      const back = await subscribe(
        url,
        channel,
        first.frame.cursor,
        (_, got) => got.live && (got.versions.get(record.warehouseId)?.length ?? 0) >= missed,
      );
      times.push(now() - started);
      back.socket.close();
      replayed = checkExactlyMissed(back.received, record.warehouseId, missed);
      ctx.log(`replay: round ${round + 1}: ${times.at(-1)!.toFixed(0)} ms`);
    }
    const s = summarize(times);
    return {
      name: 'replay',
      title: `Replay: reconnect with a cursor after ${missed.toLocaleString('en')} missed events`,
      columns: ['missed events', 'rounds', 'median ms', 'best ms', 'worst ms', 'events/s (median)'],
      rows: [
        {
          'missed events': replayed,
          rounds,
          'median ms': s.p50,
          'best ms': Math.min(...times),
          'worst ms': s.max,
          'events/s (median)': Math.round((missed / s.p50) * 1000),
        },
      ],
      goals: [
        {
          text: `caught up and live in < 1 s (${missed.toLocaleString('en')} events), median of the rounds`,
          measured: `${s.p50.toFixed(0)} ms median, ${s.max.toFixed(0)} ms worst`,
          met: s.p50 < 1_000,
        },
      ],
      notes: [
        "Timed from opening the new connection (token check included) to the `live` frame with every missed event received (events the gateway had not routed yet when it resumed arrive just after `live`, as live events); client in the load generator process. Each round replays another record's events; the first round of a fresh gateway is usually the slowest (code not yet optimised by the JIT).",
      ],
    };
  },
};
