import { encodeCursor, WS_CLOSE } from '@inv/contracts';
import { eventually, fetchJson, mintToken } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GatewayFixture,
  gatewayFixture,
  ids,
  sessionPositions,
  stockEvent,
  subscribe,
  unsubscribe,
} from './support.js';

const metric = async (f: GatewayFixture, instance: number, name: string) => {
  const text = (await fetchJson<string>(`${f.httpUrl(instance)}/metrics`)).body;
  return Number(new RegExp(`^${name}\\{service="gateway"\\} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
};

describe('abuse limits', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture({ instances: 0 });
  });
  afterAll(async () => f?.close());

  async function instanceWith(env: Record<string, string>): Promise<number> {
    return f.gateways.indexOf(await f.startGateway(env));
  }

  it('answers a list of 80 channels in one subscribe frame on 80 frames, with no RATE_LIMITED', async () => {
    const instance = await instanceWith({});
    const client = await f.client({ instance });
    await client.nextFrame('welcome');
    const channels = Array.from({ length: 80 }, (_, i) => `product:list-${i}`);
    const cursor = encodeCursor({ seq: 0, epoch: 0 });
    client.send({
      type: 'subscribe',
      channels: [...channels, 'product:bad.id', { channel: 'product:with-cursor', cursor: 'not-a-cursor' }],
      requestId: 'dashboard',
    });
    const answers = await client.waitForCount(
      (frame) => (frame.type === 'subscribed' || frame.type === 'error') && frame.requestId === 'dashboard',
      82,
    );
    expect(answers.filter((frame) => frame.type === 'subscribed').map((frame) => frame.channel)).toEqual(
      channels,
    );
    expect(
      answers.filter((frame) => frame.type === 'error').map((frame) => [frame.channel, frame.code]),
    ).toEqual([
      ['product:bad.id', 'INVALID_CHANNEL'],
      ['product:with-cursor', 'INVALID_CURSOR'],
    ]);
    expect(client.frames.some((frame) => frame.code === 'RATE_LIMITED')).toBe(false);
    // A list and a cursor for all of it is ambiguous: refused as a whole.
    client.send({ type: 'subscribe', channels: ['product:x'], cursor, requestId: 'ambiguous' });
    expect(await client.waitFor((frame) => frame.requestId === 'ambiguous')).toMatchObject({
      type: 'error',
      code: 'INVALID_MESSAGE',
    });
  });

  it('closes connections of one user beyond the limit with 4430 and serves other users', async () => {
    const instance = await instanceWith({ WS_MAX_CONNECTIONS_PER_USER: '3' });
    const mallory = await mintToken({ sub: 'mallory', warehouses: ['*'] });
    const held = [];
    for (let i = 0; i < 3; i++) {
      const client = await f.client({ instance, token: mallory });
      await client.nextFrame('welcome');
      held.push(client);
    }
    const refused = await f.client({ instance, token: mallory });
    expect(await refused.closed).toEqual({
      code: WS_CLOSE.tooManyConnections,
      reason: 'at most 3 connections per user on this instance',
    });
    const other = await f.client({ instance, claims: { sub: 'honest' } });
    expect(await other.nextFrame('welcome')).toMatchObject({ type: 'welcome' });
    // A connection that leaves makes room again.
    await held[0]!.close();
    await eventually(async () => (await metric(f, instance, 'gateway_connection_limit_closes_total')) === 1);
    const again = await f.client({ instance, token: mallory });
    await eventually(() => again.frames.some((frame) => frame.type === 'welcome') || again.isClosed);
    expect(again.isClosed).toBe(false);
  });

  it('closes connections from one address beyond the limit with 4430', async () => {
    const instance = await instanceWith({ WS_MAX_CONNECTIONS_PER_IP: '2' });
    for (const sub of ['a', 'b']) await (await f.client({ instance, claims: { sub } })).nextFrame('welcome');
    const third = await f.client({ instance, claims: { sub: 'c' } });
    expect(await third.closed).toEqual({
      code: WS_CLOSE.tooManyConnections,
      reason: 'at most 2 connections per address on this instance',
    });
  });

  it('refuses new live channels beyond the instance limit with LIVE_CHANNEL_LIMIT; existing ones go on', async () => {
    const instance = await instanceWith({ WS_MAX_LIVE_CHANNELS: '3', CHANNEL_LINGER_MS: '600000' });
    const client = await f.client({ instance });
    // The default `global` lingers once dropped: the third channel takes its place.
    for (const channel of ['product:l1', 'product:l2', 'product:l3'])
      expect(await subscribe(client, channel)).toMatchObject({ type: 'subscribed' });
    expect(await subscribe(client, 'product:l4')).toMatchObject({
      type: 'error',
      code: 'LIVE_CHANNEL_LIMIT',
    });
    const other = await f.client({ instance });
    expect(await subscribe(other, 'product:l5')).toMatchObject({ type: 'error', code: 'LIVE_CHANNEL_LIMIT' });
    // An existing channel is served to anyone, and its events flow.
    expect(await subscribe(other, 'product:l1')).toMatchObject({ type: 'subscribed' });
    const event = stockEvent('inventory.updated', { productId: 'l1', warehouseId: 'w1' });
    await f.publish(event);
    expect(ids(await client.waitForEvents('product:l1', 1))).toEqual([event.id]);
    expect(ids(await other.waitForEvents('product:l1', 1))).toEqual([event.id]);
    // A channel nobody uses any more (lingering) makes room.
    await unsubscribe(client, 'product:l2');
    expect(await subscribe(client, 'product:l4')).toMatchObject({ type: 'subscribed' });
  });

  it('refuses a user a durable session beyond the limit with TOO_MANY_SESSIONS and goes on without one', async () => {
    const instance = await instanceWith({ WS_MAX_SESSIONS_PER_USER: '2', SESSION_FLUSH_MS: '50' });
    const claims = { sub: 'session-hoarder' };
    for (const session of ['hoard-1', 'hoard-2']) {
      const client = await f.client({ instance, claims, query: { session } });
      expect(await client.nextFrame('welcome')).toMatchObject({ sessionId: session });
      await subscribe(client, 'product:hoarded');
      await eventually(async () => (await sessionPositions(f.nc, session)).has('product:hoarded'));
    }
    const third = await f.client({ instance, claims, query: { session: 'hoard-3' } });
    expect(await third.nextFrame('welcome')).toMatchObject({ sessionId: null });
    expect(await third.nextFrame('error')).toMatchObject({ code: 'TOO_MANY_SESSIONS' });
    // It still gets its default channel, and the sessions it holds still bind.
    expect(await third.nextFrame('subscribed')).toMatchObject({ channel: 'global' });
    const back = await f.client({ instance, claims, query: { session: 'hoard-1' } });
    expect(await back.nextFrame('welcome')).toMatchObject({ sessionId: 'hoard-1' });
    const otherUser = await f.client({ instance, claims: { sub: 'modest' }, query: { session: 'hoard-3' } });
    expect(await otherUser.nextFrame('welcome')).toMatchObject({ sessionId: 'hoard-3' });
  });

  it('lends a replay slot back while its client does not read, and runs one replay per connection at a time', async () => {
    const instance = await instanceWith({
      MAX_CONCURRENT_REPLAYS: '1',
      WS_MAX_REPLAYS_PER_CONNECTION: '1',
      WS_MAX_SEND_QUEUE_BYTES: String(64 * 1024),
      // Replays from the stream are what this is about: none served from the recent-events window.
      RECENT_WINDOW_EVENTS: '0',
    });
    const stalled = await f.client({ instance });
    const victim = await f.client({ instance });
    const from = (await subscribe(stalled, 'product:warmup')).cursor as string;
    const big = 'x'.repeat(8 * 1024);
    const flood = (productId: string) =>
      Array.from({ length: 400 }, () =>
        stockEvent('inventory.updated', { productId, warehouseId: 'w1' }, { reason: big }),
      );
    await f.publish(...flood('stalled-a'), ...flood('stalled-b'));
    const missed = stockEvent('inventory.updated', { productId: 'victim', warehouseId: 'w1' });
    await f.publish(missed);

    // A client that resumes two big channels and stops reading.
    stalled.pause();
    stalled.send({
      type: 'subscribe',
      channels: [
        { channel: 'product:stalled-a', cursor: from },
        { channel: 'product:stalled-b', cursor: from },
      ],
    });
    await eventually(async () => {
      const active = await metric(f, instance, 'gateway_active_replays');
      if (active !== 1) throw new Error(`${active} replays active`);
      return true;
    });

    // Another client's resume is not queued behind it.
    victim.send({ type: 'subscribe', channel: 'product:victim', cursor: from });
    expect(
      await victim.waitFor((frame) => frame.type === 'live' && frame.channel === 'product:victim'),
    ).toMatchObject({
      replayed: 1,
    });
    expect(ids(victim.events('product:victim'))).toEqual([missed.id]);
    expect(stalled.isClosed).toBe(false);
    // The stalled connection's second channel waits for its first: one replay of it at a time. (Its first
    // channel moves from the shared read to a read of its own when its socket fills: between the two, none.)
    await eventually(async () => {
      const active = await metric(f, instance, 'gateway_active_replays');
      if (active !== 1) throw new Error(`${active} replays active`);
      return true;
    });
    stalled.resume();
  });
});
