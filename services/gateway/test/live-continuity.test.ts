import { type DomainEvent, EVENTS_STREAM, liveSubject, subjectOf } from '@inv/contracts';
import {
  eventually,
  fetchJson,
  mintToken,
  startTestNats,
  TEST_JWT_SECRET,
  type TestNats,
  TestWsClient,
  testLogger,
} from '@inv/testkit';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveFeed } from '../src/app/ports.js';
import { type Gateway, loadGatewayConfig, startGateway } from '../src/index.js';
import { ids, publishAll, stockEvent, subscribe } from './support.js';

/** Ids of events the gateway's live subscriptions lose on their way, as a lossy network or route would. */
const lost = new Set<string>();

/** The gateway's live feed, losing the messages whose event id is in `lost` (on every subscription). */
function lossy(feed: LiveFeed): LiveFeed {
  return {
    subscribe: (filter, onMessage, onRejected) =>
      feed.subscribe(
        filter,
        (message) => {
          const { id } = JSON.parse(Buffer.from(message.data).toString()) as { id: string };
          if (!lost.has(id)) onMessage(message);
        },
        onRejected,
      ),
    flush: () => feed.flush(),
  };
}

const metric = async (gateway: Gateway, name: string, label: string) => {
  const text = (await fetchJson<string>(`${gateway.url}/metrics`)).body;
  const line = new RegExp(`^${name}\\{[^}]*${label}[^}]*\\} (\\d+)`, 'm').exec(text);
  return Number(line?.[1] ?? 0);
};

const stock = (productId: string, warehouseId: string, n: number) =>
  Array.from({ length: n }, () => stockEvent('inventory.updated', { productId, warehouseId }));

describe('live-feed continuity at the gateway', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let gateway: Gateway;
  const clients: TestWsClient[] = [];

  beforeAll(async () => {
    nats = await startTestNats();
    gateway = await startGateway(
      loadGatewayConfig({
        NATS_URL: nats.url,
        JWT_SECRET: TEST_JWT_SECRET,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
      }),
      { logger: testLogger('gateway'), wrapLiveFeed: lossy },
    );
    nc = await connect({ servers: nats.url });
    js = jetstream(nc);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.terminate()));
    await gateway?.stop();
    await nc?.close();
    await nats?.stop();
  });

  async function client(...channels: string[]) {
    const ws = await TestWsClient.connect(`ws://127.0.0.1:${gateway.port}/ws`, {
      token: await mintToken({ warehouses: ['*'], roles: ['viewer'] }),
    });
    clients.push(ws);
    for (const channel of channels) await subscribe(ws, channel);
    return ws;
  }

  it('reads back live messages lost on their way: every client gets every event once, in order', async () => {
    const [a, b] = [await client('product:lp1'), await client('product:lp1')];
    const warehouse = await client('warehouse:lw1');
    const everything = await client('global');

    const record = stock('lp1', 'lw1', 20);
    const other = stock('lp2', 'lw1', 10);
    const events: DomainEvent[] = [];
    for (let i = 0; i < 10; i++) events.push(record[2 * i]!, record[2 * i + 1]!, other[i]!);
    for (const event of [record[3]!, record[4]!, other[5]!, other[9]!]) lost.add(event.id);
    await publishAll(js, events);

    const product = record;
    for (const ws of [a, b]) {
      await ws.waitForEvents('product:lp1', product.length);
      expect(ids(ws.events('product:lp1'))).toEqual(ids(product));
    }
    await warehouse.waitForEvents('warehouse:lw1', events.length);
    await everything.waitForEvents('global', events.length);
    expect(ids(warehouse.events('warehouse:lw1'))).toEqual(ids(events));
    expect(ids(everything.events('global'))).toEqual(ids(events));
    expect(await metric(gateway, 'gateway_live_gaps_total', 'found_by="sequence"')).toBeGreaterThan(0);

    // The last event before a quiet spell, lost: nothing after it shows the hole; the audit against the stream does.
    const last = stockEvent('inventory.low_stock', { productId: 'lp1', warehouseId: 'lw1' });
    lost.add(last.id);
    const published = Date.now();
    await publishAll(js, [last]);
    for (const ws of [a, b]) await ws.waitForEvents('product:lp1', product.length + 1);
    console.info(
      `a lost live event with none after it reached its clients ${Date.now() - published} ms after its publish`,
    );
    await warehouse.waitForEvents('warehouse:lw1', events.length + 1);
    await everything.waitForEvents('global', events.length + 1);
    for (const [ws, channel, expected] of [
      [a, 'product:lp1', product],
      [b, 'product:lp1', product],
      [warehouse, 'warehouse:lw1', events],
      [everything, 'global', events],
    ] as const) {
      expect(ids(ws.events(channel))).toEqual(ids([...expected, last]));
    }
    expect(await metric(gateway, 'gateway_live_gaps_total', 'found_by="audit"')).toBeGreaterThan(0);
  });

  it('delivers only real events, all of them, whatever is forged on live subjects', async () => {
    const ws = await client('product:fp1', 'warehouse:fw1');
    const real = stock('fp1', 'fw1', 3);
    const [, secondSeq] = await publishAll(js, real.slice(0, 2));
    await ws.waitForEvents('product:fp1', 2);

    const fake = stockEvent('inventory.updated', { productId: 'fp1', warehouseId: 'fw1' }, {
      quantityAvailable: 999_999,
    } as never);
    const subject = subjectOf(fake);
    const forge = (set: Record<string, string> | null, on = subject) => {
      const headers = set ? natsHeaders() : undefined;
      for (const [name, value] of Object.entries(set ?? {})) headers!.set(name, value);
      nc.publish(liveSubject(on), JSON.stringify(fake), headers ? { headers } : undefined);
    };
    const republished = (seq: number, extra: Record<string, string> = {}) => ({
      'Nats-Stream': EVENTS_STREAM,
      'Nats-Subject': subject,
      'Nats-Sequence': String(seq),
      'Nats-Last-Sequence': String(secondSeq),
      ...extra,
    });
    forge(null);
    forge(republished(1_000_000_000));
    forge(republished(secondSeq! + 1));
    forge(republished(secondSeq! + 2, { 'Nats-Subject': 'inventory.product.fp1.warehouse.fw1.elsewhere' }));
    forge(republished(secondSeq! + 3, { 'Nats-Stream': 'OTHER' }));
    forge(republished(secondSeq! + 4, { 'Nats-Sequence': '1e9' }));
    forge(republished(secondSeq! + 5), `inventory.product.fp1.warehouse.fw2.x`);
    await nc.flush();

    const after = [...real.slice(2), ...stock('fp1', 'fw1', 4)];
    await publishAll(js, after);
    const expected = [...real.slice(0, 2), ...after];
    await ws.waitForEvents('product:fp1', expected.length);
    await ws.waitForEvents('warehouse:fw1', expected.length);
    expect(ids(ws.events('product:fp1'))).toEqual(ids(expected));
    expect(ids(ws.events('warehouse:fw1'))).toEqual(ids(expected));
    expect(ws.events().some((frame) => frame.id === fake.id)).toBe(false);
    for (const reason of ['no_headers', 'wrong_subject', 'wrong_stream', 'bad_sequence', 'out_of_range']) {
      await eventually(
        async () => (await metric(gateway, 'gateway_live_rejected_total', `reason="${reason}"`)) > 0,
        {
          message: `a rejection counted as ${reason}`,
        },
      );
    }
  });
});
