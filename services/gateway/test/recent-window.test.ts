import { type DomainEvent, decodeCursor } from '@inv/contracts';
import type { TestWsClient, WsFrame } from '@inv/testkit';
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

const metric = gatewayMetric;
const lastCursor = (frames: WsFrame[]) => frames.at(-1)!.cursor as string;

describe('the recent-events window', () => {
  let f: GatewayFixture;
  /** JetStream consumers created on the server since the test began (every stream read creates one). */
  let consumersCreated = 0;
  beforeAll(async () => {
    f = await gatewayFixture({ instances: 0 });
    await f.startGateway({ WS_MAX_CONNECTIONS_PER_USER: '100', RECENT_WINDOW_EVENTS: '10000' });
    await f.startGateway({ RECENT_WINDOW_EVENTS: '10' });
    const creates = f.nc.subscribe('$JS.API.CONSUMER.CREATE.>');
    void (async () => {
      for await (const _ of creates) consumersCreated++;
    })();
    await f.nc.flush();
  });
  afterAll(async () => f?.close());

  /** A client on `instance` that watched `channel` until `events` were live there: the gateway routed them. */
  async function watchUntilRouted(
    instance: number,
    channel: string,
    events: DomainEvent[],
  ): Promise<{ watcher: TestWsClient; cursor: string }> {
    const watcher = await f.client({ instance });
    await subscribe(watcher, channel);
    await f.publish(...events);
    return { watcher, cursor: lastCursor(await watcher.waitForEvents(channel, events.length)) };
  }

  it('serves 20 clients resuming inside the window from memory, exactly and in order, with no consumer', async () => {
    const channel = 'product:p1';
    const before = productTraffic('p1', 3);
    const { watcher, cursor } = await watchUntilRouted(0, channel, before);
    const missed = productTraffic('p1', 60, 3);
    await f.publish(...missed);
    await watcher.waitForEvents(channel, 63);
    const windowReplays = await metric(f, 0, 'gateway_window_replays_total');
    const consumersBefore = consumersCreated;

    const everyone = await Promise.all(Array.from({ length: 20 }, () => f.client({ instance: 0 })));
    // One of them may see w1 only: the window's events are filtered by its claims like the stream's.
    const confined = await f.client({ instance: 0, claims: { warehouses: ['w1'] } });
    await Promise.all([...everyone, confined].map((client) => subscribe(client, channel, cursor)));
    for (const client of everyone) {
      expect(ids(await client.waitForEvents(channel, 60))).toEqual(ids(missed));
      expect(await client.nextFrame('live')).toMatchObject({ channel, replayed: 60 });
    }
    expect(ids(await confined.waitForEvents(channel, 30))).toEqual(ids(inW1(missed)));
    expect(await confined.nextFrame('live')).toMatchObject({ channel, replayed: 30 });

    expect(await metric(f, 0, 'gateway_window_replays_total')).toBe(windowReplays + 21);
    expect(consumersCreated).toBe(consumersBefore);

    // Then live, without a gap or a duplicate at the hand-over.
    const later = productTraffic('p1', 4, 63);
    await f.publish(...later);
    for (const client of everyone) {
      const all = await client.waitForEvents(channel, 64);
      expect(ids(all)).toEqual(ids([...missed, ...later]));
      const seqs = all.map((frame) => decodeCursor(frame.cursor)!.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(ids(await confined.waitForEvents(channel, 32))).toEqual(ids(inW1([...missed, ...later])));
    expect(consumersCreated).toBe(consumersBefore);
  });

  it("serves a cursor at the window's end with nothing to replay, from memory", async () => {
    const channel = 'product:p2';
    const { cursor } = await watchUntilRouted(0, channel, productTraffic('p2', 5));
    const windowReplays = await metric(f, 0, 'gateway_window_replays_total');
    const consumersBefore = consumersCreated;
    const client = await f.client({ instance: 0 });
    expect(await subscribe(client, channel, cursor)).toMatchObject({ type: 'subscribed', cursor });
    expect(await client.nextFrame('live')).toMatchObject({ channel, replayed: 0 });
    const later = productTraffic('p2', 2, 5);
    await f.publish(...later);
    expect(ids(await client.waitForEvents(channel, 2))).toEqual(ids(later));
    expect(await metric(f, 0, 'gateway_window_replays_total')).toBe(windowReplays + 1);
    expect(consumersCreated).toBe(consumersBefore);
  });

  it('reads a cursor older than the window from the stream, exactly as before', async () => {
    const channel = 'product:p3';
    const { watcher, cursor } = await watchUntilRouted(1, channel, productTraffic('p3', 2));
    // Instance 1 keeps 10 events: 30 push the cursor out of its window.
    const missed = productTraffic('p3', 30, 2);
    await f.publish(...missed);
    await watcher.waitForEvents(channel, 32);
    const windowReplays = await metric(f, 1, 'gateway_window_replays_total');
    const consumersBefore = consumersCreated;
    const client = await f.client({ instance: 1 });
    await subscribe(client, channel, cursor);
    expect(ids(await client.waitForEvents(channel, 30))).toEqual(ids(missed));
    expect(await client.nextFrame('live')).toMatchObject({ channel, replayed: 30 });
    expect(await metric(f, 1, 'gateway_window_replays_total')).toBe(windowReplays);
    expect(consumersCreated).toBeGreaterThan(consumersBefore);
  });

  it('hands over from the window to live without a gap or a duplicate while events keep coming', async () => {
    const channel = 'product:p4';
    const { watcher, cursor } = await watchUntilRouted(0, channel, productTraffic('p4', 2));
    const missed = productTraffic('p4', 40, 2);
    await f.publish(...missed);
    await watcher.waitForEvents(channel, 42);
    const consumersBefore = consumersCreated;

    // Published one at a time while ten clients resume from the window.
    const during = productTraffic('p4', 60, 42);
    const publishing = (async () => {
      for (const event of during) await f.publish(event);
    })();
    const clients = await Promise.all(Array.from({ length: 10 }, () => f.client({ instance: 0 })));
    await Promise.all(clients.map((client) => subscribe(client, channel, cursor)));
    await publishing;
    for (const client of clients) {
      const all = await client.waitForEvents(channel, 100);
      expect(ids(all)).toEqual(ids([...missed, ...during]));
    }
    expect(consumersCreated).toBe(consumersBefore);
  });
});
