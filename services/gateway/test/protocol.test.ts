import { decodeCursor, WS_CLOSE } from '@inv/contracts';
import { eventually, fetchJson, TestWsClient } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, gatewayFixture, stockEvent, subscribe, unsubscribe } from './support.js';

describe('gateway protocol', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    // A generous rate limit: one test subscribes to a hundred channels at once.
    f = await gatewayFixture({ env: { WS_MAX_MESSAGES_PER_SECOND: '1000' } });
  });
  afterAll(async () => f?.close());

  it('serves the original client: subscribe, events as {type, data}, ping/pong, unsubscribe', async () => {
    const client = await f.client();
    client.send({ type: 'subscribe', channel: 'product:prod-123' });
    // The connection's default `global` comes and goes around it: look for this channel's frames.
    const ofChannel = (type: string) => (frame: { type?: unknown; channel?: unknown }) =>
      frame.type === type && frame.channel === 'product:prod-123';
    const subscribed = await client.waitFor(ofChannel('subscribed'));
    expect(subscribed).toMatchObject({ type: 'subscribed', channel: 'product:prod-123' });
    expect(decodeCursor(subscribed.cursor)).not.toBeNull();

    const event = stockEvent('inventory.updated', { productId: 'prod-123', warehouseId: 'wh-001' });
    const [seq] = await f.publish(event);
    const frame = await client.waitFor((frame) => frame.type === 'inventory.updated');
    expect(frame).toMatchObject({
      type: 'inventory.updated',
      channel: 'product:prod-123',
      id: event.id,
      occurredAt: event.occurredAt,
      data: { productId: 'prod-123', warehouseId: 'wh-001', quantityAvailable: 15, version: 3 },
    });
    expect(decodeCursor(frame.cursor)?.seq).toBe(seq);

    client.send({ type: 'ping' });
    expect(await client.nextFrame('pong')).toMatchObject({ type: 'pong' });
    client.send({ type: 'unsubscribe', channel: 'product:prod-123' });
    expect(await client.waitFor(ofChannel('unsubscribed'))).toMatchObject({ channel: 'product:prod-123' });

    await f.publish(stockEvent('inventory.updated', { productId: 'prod-123', warehouseId: 'wh-001' }));
    client.send({ type: 'ping', requestId: 'after' });
    await client.waitFor((frame) => frame.type === 'pong' && frame.requestId === 'after');
    expect(client.events('product:prod-123')).toHaveLength(1);
  });

  it('welcomes a connection and subscribes it to global until it subscribes itself', async () => {
    const client = await f.client();
    const welcome = await client.nextFrame('welcome');
    expect(welcome).toMatchObject({
      sessionId: null,
      limits: { maxFrameBytes: 4096, maxChannelsPerConnection: 100 },
    });
    await client.waitFor((frame) => frame.type === 'subscribed' && frame.channel === 'global');

    const first = stockEvent('inventory.low_stock', { productId: 'p-1', warehouseId: 'wh-1' });
    await f.publish(first);
    expect(await client.waitFor((frame) => frame.id === first.id)).toMatchObject({ channel: 'global' });

    await subscribe(client, 'product:p-2');
    expect(client.frames).toContainEqual({ type: 'unsubscribed', channel: 'global' });
    const second = stockEvent('inventory.updated', { productId: 'p-1', warehouseId: 'wh-1' });
    const third = stockEvent('inventory.updated', { productId: 'p-2', warehouseId: 'wh-1' });
    await f.publish(second, third);
    await client.waitFor((frame) => frame.id === third.id);
    expect(client.events().map((e) => e.id)).toEqual([first.id, third.id]);
  });

  it('answers an explicit subscription to the default channel without resubscribing it', async () => {
    const client = await f.client();
    const implicit = await client.waitFor(
      (frame) => frame.type === 'subscribed' && frame.channel === 'global',
    );
    const explicit = await subscribe(client, 'global');
    expect(explicit).toMatchObject({ type: 'subscribed', cursor: implicit.cursor });
    await subscribe(client, 'product:p-9');
    client.send({ type: 'ping', requestId: 'sync' });
    await client.waitFor((frame) => frame.type === 'pong');
    expect(client.frames.filter((frame) => frame.type === 'unsubscribed')).toEqual([]);
  });

  it('answers mistakes with error frames and keeps the connection open', async () => {
    const client = await f.client();
    const cases: Array<[unknown, string]> = [
      ['not json', 'INVALID_JSON'],
      ['[1,2]', 'INVALID_MESSAGE'],
      [{ type: 'dance' }, 'UNKNOWN_MESSAGE_TYPE'],
      [{ channel: 'global' }, 'INVALID_MESSAGE'],
      [{ type: 'subscribe' }, 'INVALID_MESSAGE'],
      [{ type: 'subscribe', channel: 'shelf:1' }, 'INVALID_CHANNEL'],
      [{ type: 'subscribe', channel: 'product:a.b' }, 'INVALID_CHANNEL'],
      [{ type: 'subscribe', channel: 'product:p', cursor: 'yesterday' }, 'INVALID_CURSOR'],
      [{ type: 'unsubscribe', channel: 'product:never' }, 'NOT_SUBSCRIBED'],
      [{ type: 'ack', channel: 'product:never', cursor: 'v1.1.1' }, 'NOT_SUBSCRIBED'],
      [{ type: 'session', sessionId: 'late' }, 'INVALID_SESSION'],
      [Buffer.from([1, 2, 3]), 'INVALID_MESSAGE'],
      ['x'.repeat(5_000), 'FRAME_TOO_LARGE'],
    ];
    for (const [message, code] of cases) {
      client.send(message);
      expect(await client.nextFrame('error'), JSON.stringify(message).slice(0, 60)).toMatchObject({ code });
    }
    client.sendRawText(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    expect(await client.nextFrame('error')).toMatchObject({ code: 'INVALID_MESSAGE' });
    client.send({ type: 'subscribe', channel: 'shelf:1', requestId: 'r-7' });
    expect(await client.nextFrame('error')).toMatchObject({ channel: 'shelf:1', requestId: 'r-7' });
    expect(client.isClosed).toBe(false);
  });

  it('closes a connection sending a frame over the hard limit with 1009', async () => {
    const client = await f.client();
    client.send('x'.repeat(70 * 1024));
    expect((await client.closed).code).toBe(WS_CLOSE.messageTooBig);
  });

  it('refuses more channels than the limit with TOO_MANY_CHANNELS', async () => {
    const client = await f.client();
    for (let i = 0; i < 100; i++) client.send({ type: 'subscribe', channel: `product:p-${i}` });
    await client.waitForCount((frame) => frame.type === 'subscribed' && frame.channel !== 'global', 100, {
      timeoutMs: 20_000,
    });
    client.send({ type: 'subscribe', channel: 'product:one-too-many' });
    expect(await client.waitFor((frame) => frame.type === 'error')).toMatchObject({
      code: 'TOO_MANY_CHANNELS',
    });
  });

  it('shares one live subscription per channel and drops it after the last client leaves', async () => {
    const gateway = await f.startGateway({ CHANNEL_LINGER_MS: '0' });
    const instance = f.gateways.indexOf(gateway);
    const liveChannels = async () =>
      Number(
        /^gateway_live_channels\{service="gateway"\} (\d+)/m.exec(
          (await fetchJson<string>(`${f.httpUrl(instance)}/metrics`)).body,
        )![1],
      );
    const clients = [await f.client({ instance }), await f.client({ instance })];
    for (const client of clients) await subscribe(client, 'product:shared');
    // Their default `global` goes once they subscribe; `product:shared` is one subscription for both.
    await eventually(async () => (await liveChannels()) === 1);
    for (const client of clients) {
      await unsubscribe(client, 'product:shared');
    }
    await eventually(async () => (await liveChannels()) === 0);
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    const client = await f.client();
    await subscribe(client, 'warehouse:wh-m');
    expect((await fetchJson(`${f.httpUrl()}/healthz`)).status).toBe(200);
    expect((await fetchJson(`${f.httpUrl()}/readyz`)).body).toMatchObject({ status: 'ok' });
    const metrics = (await fetchJson<string>(`${f.httpUrl()}/metrics`)).body;
    for (const name of [
      'gateway_connections{endpoint="/ws",service="gateway"}',
      'gateway_subscriptions{kind="warehouse",service="gateway"} 1',
      'gateway_frames_out_total',
      'gateway_replayed_events_total',
      'gateway_slow_consumer_closes_total',
      'gateway_delivery_lag_seconds_bucket',
    ]) {
      expect(metrics).toContain(name);
    }
  });

  it('tells clients to reconnect elsewhere on shutdown and closes them with 1001', async () => {
    const gateway = await f.startGateway();
    const client = await TestWsClient.connect(`ws://127.0.0.1:${gateway.port}/ws`, {
      token: await f.token(),
    });
    await client.waitFor((frame) => frame.type === 'subscribed');
    await gateway.stop();
    expect(await client.nextFrame('reconnect')).toMatchObject({ reason: 'shutdown' });
    expect((await client.closed).code).toBe(WS_CLOSE.goingAway);
  });

  it('hands its clients over one by one over SHUTDOWN_RECONNECT_SPREAD_MS, serving each live until its turn', async () => {
    const gateway = await f.startGateway({ SHUTDOWN_RECONNECT_SPREAD_MS: '3000' });
    const clients = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const client = await TestWsClient.connect(`ws://127.0.0.1:${gateway.port}/ws`, {
          token: await f.token(),
        });
        await subscribe(client, 'product:handover');
        return client;
      }),
    );
    const started = Date.now();
    const noticed = clients.map((client) => client.nextFrame('reconnect').then(() => Date.now() - started));
    const stopped = gateway.stop();
    await Promise.race(noticed);
    // Published once the first client is handed over: the others are still served live.
    const event = stockEvent('inventory.updated', { productId: 'handover', warehouseId: 'w1' });
    await f.publish(event);
    await stopped;

    const times = await Promise.all(noticed);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(500);
    expect(Math.max(...times)).toBeLessThan(3000 + 1000);
    let servedDuringTheSpread = 0;
    for (const client of clients) {
      expect((await client.closed).code).toBe(WS_CLOSE.goingAway);
      const notice = client.frames.findIndex((frame) => frame.type === 'reconnect');
      expect(client.frames[notice]).toEqual({ type: 'reconnect', reason: 'shutdown' });
      const got = client.frames.findIndex((frame) => frame.id === event.id);
      if (got >= 0) {
        expect(got).toBeLessThan(notice);
        servedDuringTheSpread++;
      }
    }
    expect(servedDuringTheSpread).toBeGreaterThan(0);
  });
});
