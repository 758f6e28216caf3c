import type { TestWsClient } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GatewayFixture,
  gatewayFixture,
  gatewayMetric,
  ids,
  inW1,
  productTraffic,
  subscribe,
} from './support.js';

const metric = (f: GatewayFixture, name: string) => gatewayMetric(f, 0, name);

describe('shared replays from the stream', () => {
  let f: GatewayFixture;
  /** JetStream consumers created on the server since the test began (every stream read creates one). */
  let consumersCreated = 0;
  beforeAll(async () => {
    f = await gatewayFixture({ instances: 0 });
    // A window of 5 events: every cursor below is older than it.
    await f.startGateway({ WS_MAX_CONNECTIONS_PER_USER: '100', RECENT_WINDOW_EVENTS: '5' });
    const creates = f.nc.subscribe('$JS.API.CONSUMER.CREATE.>');
    void (async () => {
      for await (const _ of creates) consumersCreated++;
    })();
    await f.nc.flush();
  });
  afterAll(async () => f?.close());

  it('serves clients resuming one channel from different cursors older than the window with one stream read', async () => {
    const channel = 'product:s1';
    const watcher = await f.client();
    await subscribe(watcher, channel);
    const events = productTraffic('s1', 48);
    await f.publish(...events);
    const cursors = (await watcher.waitForEvents(channel, 48)).map((frame) => frame.cursor as string);
    // Resumes after event i (cursor i) are owed events i+1..; the oldest first, as a storm's would come.
    const after = [0, 0, 3, 8, 15, 21, 30, 36];
    const clients = await Promise.all(after.map(() => f.client()));
    const confined = await f.client({ claims: { warehouses: ['w1'] } });
    const readsBefore = await metric(f, 'gateway_replay_reads_total');
    const consumersBefore = consumersCreated;

    const resuming: Array<[TestWsClient, number]> = [
      ...clients.map((client, i): [TestWsClient, number] => [client, after[i]!]),
      [confined, 4],
    ];
    for (const [client, i] of resuming) client.send({ type: 'subscribe', channel, cursor: cursors[i] });

    for (const [client, i] of clients.map((client, k): [TestWsClient, number] => [client, after[k]!])) {
      const owed = events.slice(i + 1);
      expect(ids(await client.waitForEvents(channel, owed.length))).toEqual(ids(owed));
      expect(await client.nextFrame('live')).toMatchObject({ channel, replayed: owed.length });
    }
    const owedW1 = inW1(events.slice(5));
    expect(ids(await confined.waitForEvents(channel, owedW1.length))).toEqual(ids(owedW1));
    expect(await confined.nextFrame('live')).toMatchObject({ channel, replayed: owedW1.length });

    expect(await metric(f, 'gateway_replay_reads_total')).toBe(readsBefore + 1);
    expect(consumersCreated).toBe(consumersBefore + 1);

    // Then live, without a gap or a duplicate at the hand-over.
    const later = productTraffic('s1', 2);
    await f.publish(...later);
    for (const [client, i] of resuming.slice(0, -1)) {
      const owed = [...events.slice(i + 1), ...later];
      expect(ids(await client.waitForEvents(channel, owed.length))).toEqual(ids(owed));
    }
  });
});
