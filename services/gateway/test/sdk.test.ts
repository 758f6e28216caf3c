import {
  type ClientEvent,
  type ConnectionState,
  InventoryClient,
  type InventoryClientOptions,
  type KeyValueStorage,
  type PageLifecycle,
  type ResetNotice,
  type ServerError,
  type WebSocketFactory,
} from '@inv/client';
import { EVENTS_STREAM } from '@inv/contracts';
import { withTimeout } from '@inv/platform';
import { eventually, mintToken } from '@inv/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type GatewayFixture,
  gatewayFixture,
  productEvents,
  sessionPositions,
  stockEvent,
} from './support.js';

/** What a browser's localStorage does, for Node. */
class MemoryStorage implements KeyValueStorage {
  readonly items = new Map<string, string>();
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

/** The page of a browser tab, for Node: the test hides it (what `pagehide` does before a reload). */
class TestPage implements PageLifecycle {
  private readonly listeners: Array<() => void> = [];
  onHidden(listener: () => void) {
    this.listeners.push(listener);
  }
  hide() {
    for (const listener of this.listeners) listener();
  }
}

/** The `ws` class, keeping every socket so a test can cut one as a page being unloaded does. */
const sockets: WebSocket[] = [];
class KeptWebSocket extends WebSocket {
  constructor(url: string) {
    super(url);
    sockets.push(this);
  }
}

describe('the client SDK against the gateway', () => {
  let f: GatewayFixture;
  const clients: InventoryClient[] = [];
  beforeAll(async () => {
    f = await gatewayFixture({ instances: 2, env: { SESSION_FLUSH_MS: '50', TOKEN_EXPIRY_CHECK_MS: '200' } });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => f?.close());

  async function sdkClient(options: Partial<InventoryClientOptions> & { instance?: number } = {}) {
    const client = new InventoryClient({
      url: f.wsUrl(options.instance ?? 0),
      token: await f.token(),
      WebSocket: WebSocket as unknown as WebSocketFactory,
      backoff: { initialMs: 50, maxMs: 200 },
      heartbeatMs: 0,
      ...options,
    });
    clients.push(client);
    return client;
  }

  /**
   * Subscribes and resolves once the channel is live: subscribed, or, when resuming by a cursor, once the missed
   * events are replayed.
   */
  function subscribeLive(
    client: InventoryClient,
    channel: string,
    received: ClientEvent[],
    { resuming = false } = {},
  ) {
    const awaited = resuming ? 'live' : 'subscribed';
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    const confirmed = new Promise<void>((resolve) => {
      const off = client.on(awaited, (notice) => {
        if (notice.channel !== channel) return;
        off();
        resolve();
      });
    });
    const live = withTimeout(confirmed, 10_000, `'${awaited}' for ${channel}`).catch((error: Error) => {
      throw new Error(`${error.message} (client ${client.state}, errors ${JSON.stringify(errors)})`);
    });
    const unsubscribe = client.subscribe(channel, (event) => received.push(event));
    return { live, unsubscribe };
  }

  it('receives every event exactly once across a gateway restart, resuming by cursor', async () => {
    const first = f.gateways[0]!;
    const port = first.port;
    const client = await sdkClient({ url: `ws://127.0.0.1:${port}/ws` });
    const states: ConnectionState[] = [];
    client.on('state', (state) => states.push(state));
    const received: ClientEvent[] = [];
    const live: string[] = [];
    client.on('live', ({ channel }) => live.push(channel));
    const { live: subscribed } = subscribeLive(client, 'product:sdk', received);
    client.connect();
    await subscribed;

    const before = productEvents('sdk', 5);
    await f.publish(...before);
    await eventually(() => received.length === 5);

    await first.stop();
    const during = Array.from({ length: 20 }, () =>
      stockEvent('inventory.low_stock', { productId: 'sdk', warehouseId: 'w1' }),
    );
    await f.publish(...during);
    f.gateways[0] = await f.startGateway({ PORT: String(port) });
    await eventually(() => live.includes('product:sdk'), { message: 'the SDK to resume' });
    const after = [stockEvent('inventory.out_of_stock', { productId: 'sdk', warehouseId: 'w1' })];
    await f.publish(...after);

    const all = [...before, ...during, ...after];
    await eventually(() => received.length >= all.length);
    expect(received.map((event) => event.id)).toEqual(all.map((event) => event.id));
    // The gateway's shutdown asks clients to reconnect elsewhere, so there may be more than one round.
    expect(states.slice(0, 3)).toEqual(['connecting', 'open', 'reconnecting']);
    expect(states.at(-1)).toBe('open');
    client.close();
    expect(states.at(-1)).toBe('closed');
  });

  it('resumes from the cursors it kept in storage after a reload, on another instance', async () => {
    const storage = new MemoryStorage();
    const before = await sdkClient({ cursorStorage: storage });
    const seen: ClientEvent[] = [];
    const first = subscribeLive(before, 'product:reload', seen);
    before.connect();
    await first.live;
    await f.publish(...productEvents('reload', 3));
    await eventually(() => seen.length === 3);
    before.close();

    const missed = productEvents('reload', 4);
    await f.publish(...missed);
    const after = await sdkClient({ cursorStorage: storage, instance: 1 });
    const resumed: ClientEvent[] = [];
    const second = subscribeLive(after, 'product:reload', resumed, { resuming: true });
    after.connect();
    await second.live;
    expect(resumed.map((event) => event.id)).toEqual(missed.map((event) => event.id));
  });

  it('resumes a durable session whose id it kept in storage, without any cursor', async () => {
    const storage = new MemoryStorage();
    const before = await sdkClient({ session: { storage }, ackIntervalMs: 50 });
    expect(before.sessionId).toMatch(/^s-/);
    const seen: ClientEvent[] = [];
    const first = subscribeLive(before, 'product:session', seen);
    before.connect();
    await first.live;
    const [, lastSeen] = await f.publish(...productEvents('session', 2));
    await eventually(() => seen.length === 2);
    await eventually(
      async () => (await sessionPositions(f.nc, before.sessionId!)).get('product:session') === lastSeen,
      {
        message: 'the acknowledged position to be stored',
      },
    );
    before.close();

    const missed = productEvents('session', 3);
    await f.publish(...missed);
    // Listening to the session's channels without subscribing to them again: asked for explicitly.
    const after = await sdkClient({ session: { storage }, instance: 1, includeUnsubscribedChannels: true });
    expect(after.sessionId).toBe(before.sessionId);
    const resumed: ClientEvent[] = [];
    after.on('event', (event) => resumed.push(event));
    after.connect();
    await eventually(() => resumed.length >= missed.length, { message: 'the missed events' });
    expect(resumed.map((event) => event.id)).toEqual(missed.map((event) => event.id));
  });

  it('tells the application to reload when its cursor is past retention, then delivers live events', async () => {
    const storage = new MemoryStorage();
    const before = await sdkClient({ cursorStorage: storage });
    const seen: ClientEvent[] = [];
    const first = subscribeLive(before, 'product:expired', seen);
    before.connect();
    await first.live;
    await f.publish(...productEvents('expired', 2));
    await eventually(() => seen.length === 2);
    before.close();
    // Missed while away, then removed by retention before the client is back.
    await f.publish(...productEvents('expired', 3));
    await f.jsm.streams.purge(EVENTS_STREAM, { keep: 1 });

    const after = await sdkClient({ cursorStorage: storage });
    const resets: ResetNotice[] = [];
    const received: ClientEvent[] = [];
    after.subscribe('product:expired', (event) => received.push(event), {
      onReset: (notice) => resets.push(notice),
    });
    after.connect();
    await eventually(() => resets.length === 1, { message: 'the reset' });
    expect(resets[0]).toEqual({ channel: 'product:expired', reason: 'cursor_expired' });

    const next = productEvents('expired', 1);
    await f.publish(...next);
    await eventually(() => received.length === 1, { message: 'a live event after the reset' });
    expect(received[0]!.id).toBe(next[0]!.id);
  });

  it('stops delivering a channel once its last handler unsubscribes', async () => {
    const client = await sdkClient();
    const kept: ClientEvent[] = [];
    const dropped: ClientEvent[] = [];
    const a = subscribeLive(client, 'product:kept', kept);
    const b = subscribeLive(client, 'product:dropped', dropped);
    client.connect();
    await Promise.all([a.live, b.live]);
    const keptArrived = new Promise((resolve) =>
      client.on('event', (event) => event.channel === 'product:kept' && resolve(event)),
    );
    b.unsubscribe();
    await f.publish(...productEvents('dropped', 2), ...productEvents('kept', 1));
    await keptArrived;
    expect(kept).toHaveLength(1);
    expect(dropped).toEqual([]);
  });

  /** A reload: the page is hidden (or not), then its socket is cut without a close from the SDK. */
  async function reload(client: InventoryClient, page: TestPage | null) {
    page?.hide();
    const socket = sockets.at(-1)!;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.terminate();
    client.close();
    await closed;
  }

  async function handledThenReloaded(sessionId: string, hidePage: boolean) {
    const page = new TestPage();
    const before = await sdkClient({
      session: { id: sessionId },
      ackIntervalMs: 3_600_000,
      page,
      WebSocket: KeptWebSocket as unknown as WebSocketFactory,
    });
    const handled: ClientEvent[] = [];
    const first = subscribeLive(before, `product:${sessionId}`, handled);
    before.connect();
    await first.live;
    const seen = productEvents(sessionId, 3);
    await f.publish(...seen);
    await eventually(() => handled.length === 3);
    await reload(before, hidePage ? page : null);

    const missed = productEvents(sessionId, 2);
    await f.publish(...missed);
    const after = await sdkClient({ session: { id: sessionId }, instance: 1 });
    const resumed: ClientEvent[] = [];
    const second = subscribeLive(after, `product:${sessionId}`, resumed, { resuming: true });
    after.connect();
    await second.live;
    return { seen, missed, resumed };
  }

  it('does not deliver again after a reload what was handled before the page was hidden', async () => {
    const { missed, resumed } = await handledThenReloaded('reload-hidden', true);
    expect(resumed.map((event) => event.id)).toEqual(missed.map((event) => event.id));
  });

  it('delivers again after a reload what was handled but not acknowledged (the at-least-once edge)', async () => {
    // The page went away without `pagehide` (a crash) and before the ack interval: acknowledged nothing.
    const { seen, missed, resumed } = await handledThenReloaded('reload-crash', false);
    expect(resumed.map((event) => event.id)).toEqual([...seen, ...missed].map((event) => event.id));
  });

  it('stops the older of two clients sharing a durable session id, with SESSION_TAKEN_OVER', async () => {
    const older = await sdkClient({ session: { id: 'two-tabs' }, instance: 0 });
    const errors: ServerError[] = [];
    older.on('error', (error) => errors.push(error));
    const olderEvents: ClientEvent[] = [];
    const first = subscribeLive(older, 'product:two-tabs', olderEvents);
    older.connect();
    await first.live;

    const newer = await sdkClient({ session: { id: 'two-tabs' }, instance: 1 });
    const newerErrors: ServerError[] = [];
    newer.on('error', (error) => newerErrors.push(error));
    const newerEvents: ClientEvent[] = [];
    const second = subscribeLive(newer, 'product:two-tabs', newerEvents);
    newer.connect();
    await second.live;
    const events = productEvents('two-tabs', 2);
    await f.publish(...events);
    await eventually(() => newerEvents.length === 2);
    await eventually(
      () => {
        // What a timeout needs to tell a missed takeover from an older client that bound the session again.
        if (older.state === 'closed') return true;
        const codes = (errors: ServerError[]) => errors.map((error) => error.code).join(',');
        throw new Error(
          `older ${older.state} (errors [${codes(errors)}], ${olderEvents.length} events), ` +
            `newer ${newer.state} (errors [${codes(newerErrors)}], ${newerEvents.length} events)`,
        );
      },
      { message: 'the older client to stop' },
    );
    expect(errors.map((error) => error.code)).toContain('SESSION_TAKEN_OVER');
    expect(newer.state).toBe('open');
  });

  it('refreshes its token through getToken ahead of expiry and keeps its connection past the first expiry', async () => {
    const issued: string[] = [];
    const getToken = async () => {
      issued.push(await mintToken({ warehouses: ['*'] }, { expiresIn: '3s' }));
      return issued.at(-1)!;
    };
    const client = await sdkClient({ token: getToken, refreshAheadMs: 1_500 });
    const states: ConnectionState[] = [];
    client.on('state', (state) => states.push(state));
    const refreshed: Array<string | null> = [];
    client.on('refreshed', ({ expiresAt }) => refreshed.push(expiresAt));
    const received: ClientEvent[] = [];
    const { live } = subscribeLive(client, 'product:long-lived', received);
    client.connect();
    await live;

    // A connection with the same first token and no refresh is the witness: once it is closed with 4401, the
    // SDK's connection has outlived that token.
    const witness = await f.client({ token: issued[0]! });
    expect((await witness.closed).code).toBe(4401);
    await eventually(() => refreshed.length >= 1, { message: 'a refresh' });
    await f.publish(...productEvents('long-lived', 1));
    await eventually(() => received.length === 1, { message: 'an event after the first token expired' });
    expect(states).toEqual(['connecting', 'open']);
    expect(issued.length).toBeGreaterThanOrEqual(2);
    expect(refreshed[0]).toBe(
      new Date(
        JSON.parse(Buffer.from(issued[1]!.split('.')[1]!, 'base64url').toString()).exp * 1000,
      ).toISOString(),
    );
  });

  it('subscribes a dashboard to 80 channels at connect without a single RATE_LIMITED, also after a reconnect', async () => {
    const client = await sdkClient();
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    const confirmed = new Set<string>();
    client.on('subscribed', ({ channel }) => confirmed.add(channel));
    const channels = Array.from({ length: 80 }, (_, i) => `product:dash-${i}`);
    client.connect();
    await new Promise<void>((resolve) => client.on('state', (state) => state === 'open' && resolve()));
    // What a dashboard does when it renders: one subscribe call per widget, all at once.
    for (const channel of channels) client.subscribe(channel, () => undefined);
    await eventually(
      () => {
        if (confirmed.size < 80)
          throw new Error(`${confirmed.size} ${client.state} ${JSON.stringify(errors)}`);
        return true;
      },
      { message: '80 subscribed channels' },
    );
    expect(errors).toEqual([]);

    // A reconnect resubscribes all 80 from their cursors, again without an error.
    confirmed.clear();
    await f.gateways[0]!.stop();
    f.gateways[0] = await f.startGateway({ PORT: String(f.gateways[0]!.port) });
    await eventually(
      () => {
        if (confirmed.size < 80)
          throw new Error(`${confirmed.size} ${client.state} ${JSON.stringify(errors)}`);
        return true;
      },
      { message: '80 channels resubscribed', timeoutMs: 15_000 },
    );
    expect(errors).toEqual([]);
  });
});
