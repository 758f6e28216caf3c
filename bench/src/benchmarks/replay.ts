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
}

/** Opens a gateway connection, subscribes (with a cursor or not) and resolves on the frame `until` accepts. */
function subscribe(url: string, channel: string, cursor: string | undefined, until: (f: Frame) => boolean) {
  return new Promise<{ frame: Frame; events: number; socket: WebSocket }>((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    let events = 0;
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('replay: no answer within 60 s'));
    }, 60_000);
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.type === 'inventory.updated') events++;
      else if (frame.type === 'error' || frame.type === 'reset')
        reject(new Error(`replay: ${data.toString()}`));
      if (frame.channel === channel && until(frame)) {
        clearTimeout(timer);
        resolve({ frame, events, socket });
      }
    });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'subscribe', channel, cursor })));
    socket.once('error', reject);
  });
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
      const back = await subscribe(url, channel, first.frame.cursor, (f) => f.type === 'live');
      times.push(now() - started);
      back.socket.close();
      replayed = back.events;
      if (back.events !== missed)
        throw new Error(`replay: ${back.events} events replayed, ${missed} expected`);
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
        "Timed from opening the new connection (token check included) to the `live` frame; client in the load generator process. Each round replays another record's events; the first round of a fresh gateway is usually the slowest (code not yet optimised by the JIT).",
      ],
    };
  },
};
