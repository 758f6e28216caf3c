import { WS_CLOSE } from '@inv/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { nextConnectionState } from '../src/connection-state.js';
import {
  type ClientEvent,
  type ConnectionState,
  InventoryClient,
  type InventoryClientOptions,
  type NetworkStatus,
  type ResetNotice,
  type ServerError,
  type WebSocketFactory,
} from '../src/index.js';
import { cursorAt, FakeGateway } from './fake-gateway.js';

const CHANNEL = 'product:p1';

/** The device's network, played by the test. */
class TestNetwork implements NetworkStatus {
  private readonly listeners: Array<() => void> = [];
  onOnline(listener: () => void): void {
    this.listeners.push(listener);
  }
  online(): void {
    for (const listener of this.listeners) listener();
  }
}

let gateway: FakeGateway;
const clients: InventoryClient[] = [];

async function clientOf(options: Partial<InventoryClientOptions> = {}) {
  gateway ??= await FakeGateway.start();
  const client = new InventoryClient({
    url: gateway.url,
    token: 't',
    WebSocket: WebSocket as unknown as WebSocketFactory,
    heartbeatMs: 0,
    backoff: { initialMs: 10, jitter: 0 },
    ...options,
  });
  clients.push(client);
  const states: ConnectionState[] = [];
  const errors: ServerError[] = [];
  client.on('state', (state) => states.push(state));
  client.on('error', (error) => errors.push(error));
  return { client, states, errors };
}

/** Resolves when the client's next `name` notification `matches`. */
function next<T>(
  client: InventoryClient,
  name: 'state' | 'live' | 'refreshed' | 'subscribed',
  matches: (value: T) => boolean = () => true,
) {
  return new Promise<T>((resolve) => {
    const off = client.on(name, (value) => {
      if (!matches(value as T)) return;
      off();
      resolve(value as T);
    });
  });
}

/** A handler that collects events and resolves once it holds `count`. */
function collector() {
  const events: ClientEvent[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  return {
    events,
    handler: (event: ClientEvent) => {
      events.push(event);
      for (const w of waiters.filter((w) => events.length >= w.count)) w.resolve();
    },
    count: (count: number) =>
      new Promise<void>((resolve) => {
        if (events.length >= count) resolve();
        else waiters.push({ count, resolve });
      }),
  };
}

/** Subscribes a collector to CHANNEL, connects, and resolves once `count` published events reached it. */
async function receiving(client: InventoryClient, count: number, onReset?: (notice: ResetNotice) => void) {
  const got = collector();
  client.subscribe(CHANNEL, got.handler, { onReset });
  client.connect();
  await next(client, 'subscribed');
  gateway.publish(CHANNEL, count);
  await got.count(count);
  return got;
}

const versions = (events: ClientEvent[]) => events.map((e) => (e.data as { version: number }).version);

describe('connection state transitions', () => {
  it('starts connecting only from closed, and ignores a late open after close', () => {
    expect(nextConnectionState('closed', 'connect')).toBe('connecting');
    expect(nextConnectionState('open', 'connect')).toBeNull();
    expect(nextConnectionState('closed', 'opened')).toBeNull();
    expect(nextConnectionState('closed', 'lost')).toBeNull();
  });

  it('stays reconnecting through waits and attempts until a socket opens', () => {
    expect(nextConnectionState('open', 'lost')).toBe('reconnecting');
    expect(nextConnectionState('reconnecting', 'retry')).toBe('reconnecting');
    expect(nextConnectionState('reconnecting', 'lost')).toBe('reconnecting');
    expect(nextConnectionState('reconnecting', 'opened')).toBe('open');
    for (const state of ['connecting', 'open', 'reconnecting'] as const)
      expect(nextConnectionState(state, 'close')).toBe('closed');
  });
});

describe('the SDK against an in-process fake gateway', { timeout: 5_000 }, () => {
  afterEach(async () => {
    vi.useRealTimers();
    for (const client of clients.splice(0)) client.close();
    await gateway?.close();
    gateway = undefined as unknown as FakeGateway;
  });

  it('resumes from the cursor of the last event after the connection drops, missing nothing', async () => {
    const { client, states } = await clientOf();
    const got = await receiving(client, 3);

    gateway.dropAll();
    gateway.publish(CHANNEL, 2); // while the client is away
    const second = await gateway.connection(1);
    const subscribe = await gateway.message(second, (m) => m.type === 'subscribe');
    expect(subscribe).toMatchObject({ channel: CHANNEL, cursor: cursorAt(3) });
    await got.count(5);
    expect(versions(got.events)).toEqual([1, 2, 3, 4, 5]);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
  });

  it('backs off exponentially while the gateway refuses after the upgrade, and afresh once served', async () => {
    const { client } = await clientOf({ backoff: { initialMs: 20, factor: 3, jitter: 0, maxMs: 5_000 } });
    client.subscribe(CHANNEL, () => undefined);
    gateway.refuseWith = WS_CLOSE.unauthorized; // as the gateway refuses a token: after the upgrade
    client.connect();
    await gateway.connection(2);
    gateway.refuseWith = null;
    await next(client, 'subscribed');
    const opened = gateway.connections.map((c) => c.openedAt);
    const gaps = opened.slice(1).map((at, i) => at - opened[i]!);
    // Timers never fire early: each wait is at least its delay (20, 60, 180 ms); 2 ms for clock rounding.
    for (const [i, delay] of [20, 60, 180].entries()) expect(gaps[i]).toBeGreaterThanOrEqual(delay - 2);

    const servedAt = Date.now();
    gateway.dropAll();
    await gateway.connection(4);
    // The gateway served the last connection: the first delay (20 ms) again, not the next one (540 ms).
    expect(Date.now() - servedAt).toBeLessThan(400);
  });

  it('hands an event the gateway sends twice to the handler once', async () => {
    const { client } = await clientOf();
    const got = collector();
    client.subscribe(CHANNEL, got.handler);
    client.connect();
    await next(client, 'subscribed');
    const connection = await gateway.connection(0);
    const [first, second] = gateway.publish(CHANNEL, 2);
    gateway.send(connection, first!); // a replay overlapping what was delivered live
    gateway.send(connection, second!);
    gateway.publish(CHANNEL, 1);
    await got.count(3);
    expect(versions(got.events)).toEqual([1, 2, 3]);
  });

  it('tells the application when its cursor was reset and goes on from the cursor of the reset', async () => {
    const { client } = await clientOf();
    const resets: ResetNotice[] = [];
    const got = await receiving(client, 1, (notice) => resets.push(notice));

    gateway.dropAll();
    gateway.publish(CHANNEL, 5);
    gateway.expireCursors(CHANNEL);
    const reset = new Promise<ResetNotice>((resolve) => client.on('reset', resolve));
    expect(await reset).toEqual({ channel: CHANNEL, reason: 'cursor_expired' });
    expect(resets).toHaveLength(1);
    expect(client.cursor(CHANNEL)).toBe(cursorAt(6));
    gateway.publish(CHANNEL, 1);
    await got.count(2);
    // The five events the reset skipped are for the application to reload over REST, not delivered.
    expect(versions(got.events)).toEqual([1, 7]);
  });

  it('refreshes its token on the live connection ahead of the expiry and reconnects with a fresh one', async () => {
    gateway = await FakeGateway.start({ tokenLifetimeMs: 400 });
    let issued = 0;
    const { client } = await clientOf({ token: () => `t-${++issued}`, refreshAheadMs: 300 });
    const refreshed = next<{ expiresAt: string | null }>(client, 'refreshed');
    client.connect();
    const first = await gateway.connection(0);
    expect(first.token).toBe('t-1');
    const refresh = await gateway.message(first, (m) => m.type === 'refresh');
    expect(refresh.token).toBe('t-2');
    // Sent at half the remaining lifetime (the ahead time is capped at half of it), not at the expiry.
    expect(Date.now() - first.openedAt).toBeLessThan(400);
    expect((await refreshed).expiresAt).not.toBeNull();

    gateway.dropAll();
    expect((await gateway.connection(1)).token).toBe('t-3');
  });

  it('asks again halfway to the expiry when the gateway refuses a refreshed token', async () => {
    // Minutes of token lifetime pass on fake clocks (the client retries only with a second or more left).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    gateway = await FakeGateway.start({
      tokenLifetimeMs: 60_000,
      acceptsRefresh: (token) => token !== 't-2',
    });
    let issued = 0;
    const { client, errors } = await clientOf({ token: () => `t-${++issued}`, refreshAheadMs: 10_000 });
    const refused = new Promise((resolve) => client.on('error', resolve));
    client.subscribe(CHANNEL, () => undefined);
    client.connect();
    const connection = await gateway.connection(0);
    await next(client, 'subscribed'); // after the welcome, so the refresh is scheduled
    await vi.advanceTimersByTimeAsync(50_000);
    await gateway.message(connection, (m) => m.type === 'refresh' && m.token === 't-2');
    await refused;
    expect(connection.received.filter((m) => m.type === 'refresh')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5_000); // halfway through the 10 s left
    await gateway.message(connection, (m) => m.type === 'refresh' && m.token === 't-3');
    expect(errors.map((e) => e.code)).toEqual(['INVALID_TOKEN']);
  });

  it('reconnects at once when the network comes back instead of waiting out its backoff', async () => {
    const network = new TestNetwork();
    const { client } = await clientOf({ network, backoff: { initialMs: 5_000, jitter: 0 } });
    client.connect();
    await next(client, 'state', (s) => s === 'open');
    gateway.dropAll();
    await next(client, 'state', (s) => s === 'reconnecting');
    const offlineAt = Date.now();
    network.online();
    await gateway.connection(1);
    await next(client, 'state', (s) => s === 'open');
    expect(Date.now() - offlineAt).toBeLessThan(1_000);
  });

  it("waits the delay of the gateway's reconnect frame instead of its own backoff, then resumes", async () => {
    const { client, states } = await clientOf({ backoff: { initialMs: 5_000, jitter: 0 } });
    const got = await receiving(client, 1);

    const askedAt = Date.now();
    gateway.shutdown(150);
    gateway.publish(CHANNEL, 1);
    const second = await gateway.connection(1);
    expect(second.openedAt - askedAt).toBeGreaterThanOrEqual(148);
    expect(second.openedAt - askedAt).toBeLessThan(5_000);
    await got.count(2);
    expect(versions(got.events)).toEqual([1, 2]);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
  });

  it('stops for good when a newer connection takes its durable session over', async () => {
    const { client, errors, states } = await clientOf({ session: { id: 's-1' } });
    client.connect();
    const connection = await gateway.connection(0);
    await next(client, 'state', (s) => s === 'open');
    connection.socket.close(WS_CLOSE.sessionTakenOver, 'taken over');
    await next(client, 'state', (s) => s === 'closed');
    expect(errors.map((e) => e.code)).toEqual(['SESSION_TAKEN_OVER']);
    expect(states).toEqual(['connecting', 'open', 'closed']);
    expect(gateway.connections).toHaveLength(1);
  });

  it('reports a refused token and comes back with a fresh one', async () => {
    let issued = 0;
    const { client, errors } = await clientOf({ token: () => `t-${++issued}` });
    client.connect();
    const first = await gateway.connection(0);
    first.socket.close(WS_CLOSE.unauthorized, 'expired');
    expect((await gateway.connection(1)).token).toBe('t-2');
    expect(errors.map((e) => e.code)).toEqual(['UNAUTHORIZED']);
  });

  it('stays closed after close() and starts afresh on connect()', async () => {
    const { client, states } = await clientOf();
    client.connect();
    await next(client, 'state', (s) => s === 'open');
    client.close();
    expect(client.state).toBe('closed');
    // connect() again starts from the first attempt.
    client.connect();
    await gateway.connection(1);
    await next(client, 'state', (s) => s === 'open');
    expect(states).toEqual(['connecting', 'open', 'closed', 'connecting', 'open']);
  });
});
