import { encodeCursor, WS_CLOSE } from '@inv/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ClientEvent,
  InventoryClient,
  type InventoryClientOptions,
  type PageLifecycle,
  type ServerError,
  type WebSocketLike,
} from '../src/index.js';

/** A WebSocket double: records what the client sends and lets a test play the gateway's side. */
class FakeSocket implements WebSocketLike {
  static instances: FakeSocket[] = [];
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: Array<Record<string, unknown>> = [];

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code = 1000, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** Several frames in one message, as a gateway batches them for a client that asked (`batch=1`). */
  receiveBatch(frames: Array<Record<string, unknown>>): void {
    this.onmessage?.({ data: frames.map((frame) => JSON.stringify(frame)).join('\n') });
  }
}

class FakePage implements PageLifecycle {
  private readonly listeners: Array<() => void> = [];
  onHidden(listener: () => void): void {
    this.listeners.push(listener);
  }
  hide(): void {
    for (const listener of this.listeners) listener();
  }
}

/** A cursor as the gateway writes them: event `e7` is at stream sequence 7 of the stream made at epoch 1. */
const cursorOf = (id: string, epoch = 1) => encodeCursor({ seq: Number(id.replace(/\D/g, '')), epoch });

const event = (channel: string, id: string, cursor = cursorOf(id)) => ({
  type: 'inventory.updated',
  channel,
  id,
  cursor,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data: {},
});

/** A welcome as the gateway sends it: for a client without channels, the sign it was served. */
const WELCOME = {
  type: 'welcome',
  connectionId: 'c1',
  sessionId: null,
  heartbeatMs: 30_000,
  limits: { maxFrameBytes: 4096, maxChannelsPerConnection: 100, maxMessagesPerSecond: 50 },
};

async function connected(options: Partial<InventoryClientOptions> = {}) {
  const client = new InventoryClient({
    url: 'ws://gateway.test/ws',
    token: 't',
    WebSocket: FakeSocket,
    heartbeatMs: 0,
    ...options,
  });
  client.connect();
  await vi.waitFor(() => expect(FakeSocket.instances.length).toBe(1));
  const socket = FakeSocket.instances[0]!;
  socket.open();
  return { client, socket };
}

describe('SDK delivery semantics', () => {
  afterEach(() => {
    FakeSocket.instances = [];
    vi.useRealTimers();
  });

  it("surfaces an event carried by two subscribed channels once on on('event'), and to each channel", async () => {
    const { client, socket } = await connected();
    const product: ClientEvent[] = [];
    const productWarehouse: ClientEvent[] = [];
    const surfaced: ClientEvent[] = [];
    client.subscribe('product:p1', (e) => product.push(e));
    client.subscribe('product:p1:warehouse:A', (e) => productWarehouse.push(e));
    client.on('event', (e) => surfaced.push(e));

    socket.receive(event('product:p1', 'e1'));
    socket.receive(event('product:p1:warehouse:A', 'e1'));
    socket.receive(event('product:p1', 'e1'));
    expect(product.map((e) => e.id)).toEqual(['e1']);
    expect(productWarehouse.map((e) => e.id)).toEqual(['e1']);
    expect(surfaced.map((e) => e.id)).toEqual(['e1']);
  });

  it("drops an event at or before its channel's cursor, and counts it", async () => {
    const { client, socket } = await connected();
    const got: string[] = [];
    client.subscribe('product:p1', (e) => got.push(e.id));
    socket.receive(event('product:p1', 'e5'));
    socket.receive(event('product:p1', 'e6'));
    socket.receive(event('product:p1', 'e6'));
    socket.receive(event('product:p1', 'e4'));
    socket.receive(event('product:p1', 'e7'));
    expect(got).toEqual(['e5', 'e6', 'e7']);
    expect(client.duplicatesDropped).toBe(2);
    expect(client.cursor('product:p1')).toBe(cursorOf('e7'));
  });

  it('drops what comes again after resuming with a cursor, and takes an event of a stream made anew', async () => {
    const { client, socket } = await connected();
    const got: string[] = [];
    client.subscribe('product:p1', (e) => got.push(e.id), { cursor: cursorOf('e9') });
    socket.receive(event('product:p1', 'e9'));
    socket.receive(event('product:p1', 'e10'));
    // Sequence 3 of another stream (its epoch differs): not a repeat of sequence 3 of the old one.
    socket.receive(event('product:p1', 'e3', cursorOf('e3', 2)));
    expect(got).toEqual(['e10', 'e3']);
    expect(client.duplicatesDropped).toBe(1);
  });

  it("keeps no event ids for on('event') while nobody listens", async () => {
    const { client, socket } = await connected();
    client.subscribe('product:p1', () => undefined);
    client.subscribe('product:p1:warehouse:A', () => undefined);
    socket.receive(event('product:p1', 'e1'));
    const surfaced: string[] = [];
    client.on('event', (e) => surfaced.push(e.id));
    // The listener never saw e1: its copy on the other channel is new to it.
    socket.receive(event('product:p1:warehouse:A', 'e1'));
    socket.receive(event('product:p1', 'e2'));
    socket.receive(event('product:p1:warehouse:A', 'e2'));
    expect(surfaced).toEqual(['e1', 'e2']);
  });

  it('asks for batched frames by default, and handles each frame of a batched message in order', async () => {
    const { client, socket } = await connected();
    expect(new URL(socket.url).searchParams.get('batch')).toBe('1');
    const seen: string[] = [];
    const lives: string[] = [];
    client.subscribe('product:p1', (e) => seen.push(e.id));
    client.on('live', ({ channel }) => lives.push(channel));
    socket.receiveBatch([
      event('product:p1', 'e1'),
      event('product:p1', 'e2'),
      { type: 'live', channel: 'product:p1', replayed: 2 },
      event('product:p1', 'e3'),
    ]);
    expect(seen).toEqual(['e1', 'e2', 'e3']);
    expect(lives).toEqual(['product:p1']);
    // A later resume starts after the last event of the batch.
    expect(client.cursor('product:p1')).toBe(cursorOf('e3'));
  });

  it('does not surface events of channels the application did not subscribe to, unless asked', async () => {
    const quiet = await connected();
    const surfaced: ClientEvent[] = [];
    quiet.client.on('event', (e) => surfaced.push(e));
    // The default `global` of a fresh connection, a channel a durable session brought back.
    quiet.socket.receive(event('global', 'e1'));
    quiet.socket.receive(event('product:restored', 'e2'));
    expect(surfaced).toEqual([]);
    quiet.client.close();
    FakeSocket.instances = [];

    const curious = await connected({ includeUnsubscribedChannels: true });
    curious.client.on('event', (e) => surfaced.push(e));
    curious.socket.receive(event('global', 'e1'));
    expect(surfaced.map((e) => e.id)).toEqual(['e1']);
  });

  it('acknowledges what was handled as soon as the page is hidden, not only on the interval', async () => {
    const page = new FakePage();
    const { client, socket } = await connected({ session: { id: 's-1' }, ackIntervalMs: 3_600_000, page });
    client.subscribe('product:p1', () => undefined);
    socket.receive(event('product:p1', 'e1'));
    socket.receive(event('product:p1', 'e2'));
    expect(socket.sent.filter((m) => m.type === 'ack')).toEqual([]);
    page.hide();
    expect(socket.sent.filter((m) => m.type === 'ack')).toEqual([
      { type: 'ack', channel: 'product:p1', cursor: cursorOf('e2') },
    ]);
    // Nothing new handled: hiding again sends nothing more.
    page.hide();
    expect(socket.sent.filter((m) => m.type === 'ack')).toHaveLength(1);
  });

  it('stops, and says why, when a newer connection takes its durable session over (4409)', async () => {
    vi.useFakeTimers();
    const { client, socket } = await connected({ session: { id: 's-2' }, backoff: { initialMs: 10 } });
    const errors: ServerError[] = [];
    client.on('error', (error) => errors.push(error));
    socket.close(WS_CLOSE.sessionTakenOver, 'a newer connection took over this durable session');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(client.state).toBe('closed');
    expect(errors.map((error) => error.code)).toEqual(['SESSION_TAKEN_OVER']);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('reconnects after any other close', async () => {
    vi.useFakeTimers();
    const { client, socket } = await connected({ session: { id: 's-3' }, backoff: { initialMs: 10 } });
    socket.close(WS_CLOSE.goingAway, 'shutdown');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeSocket.instances).toHaveLength(2);
    client.close();
  });

  it('waits the delay the gateway suggested in its reconnect frame, then reconnects', async () => {
    vi.useFakeTimers();
    const { client, socket } = await connected({ backoff: { initialMs: 10 } });
    socket.receive({ type: 'reconnect', reason: 'shutdown', afterMs: 3_000 });
    expect(client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(2_990);
    expect(FakeSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20);
    expect(FakeSocket.instances).toHaveLength(2);
    // Only that once: the next close backs off as usual (10 ms here).
    FakeSocket.instances[1]!.open();
    FakeSocket.instances[1]!.close(WS_CLOSE.goingAway, 'gone');
    await vi.advanceTimersByTimeAsync(20);
    expect(FakeSocket.instances).toHaveLength(3);
    client.close();
  });

  it("bounds a gateway's suggested delay by its own backoff cap", async () => {
    vi.useFakeTimers();
    const { client, socket } = await connected({ backoff: { initialMs: 10, maxMs: 2_000 } });
    socket.receive({ type: 'reconnect', reason: 'shutdown', afterMs: 3_600_000 });
    await vi.advanceTimersByTimeAsync(1_990);
    expect(FakeSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20);
    expect(FakeSocket.instances).toHaveLength(2);
    client.close();
  });

  it('reconnects at once, not after its backoff, on a reconnect frame without a delay', async () => {
    vi.useFakeTimers();
    const { client, socket } = await connected({ backoff: { initialMs: 10_000, jitter: 0 } });
    socket.receive(WELCOME); // served
    socket.receive({ type: 'reconnect', reason: 'shutdown' });
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.instances).toHaveLength(2);
    client.close();
  });

  it('backs off, not at once, when a stopping gateway answers every new connection with a reconnect frame', async () => {
    vi.useFakeTimers();
    const client = new InventoryClient({
      url: 'ws://gateway.test/ws',
      token: 't',
      WebSocket: FakeSocket,
      heartbeatMs: 0,
      backoff: { initialMs: 100, jitter: 0 },
    });
    client.connect();
    // Each socket opens and is told to go elsewhere before anything is served (the same instance, still stopping).
    for (let elapsed = 0; elapsed < 1_000; elapsed += 5) {
      for (const socket of FakeSocket.instances.filter((s) => s.readyState === 0)) {
        socket.open();
        socket.receive({ type: 'reconnect', reason: 'shutdown' });
      }
      await vi.advanceTimersByTimeAsync(5);
    }
    client.close();
    // 100 + 200 + 400 ms of backoff in the second: four sockets (a tight loop opened hundreds).
    expect(FakeSocket.instances.length).toBeLessThanOrEqual(5);
  });

  it('opens one socket when the network comes back while a reconnect waits for its token', async () => {
    vi.useFakeTimers();
    const online: Array<() => void> = [];
    let tokens = 0;
    let giveToken: () => void = () => undefined;
    const tokenServer = new Promise<void>((resolve) => {
      giveToken = resolve;
    });
    const client = new InventoryClient({
      url: 'ws://gateway.test/ws',
      token: async () => {
        if (++tokens > 1) await tokenServer; // every later fetch waits for the token server
        return 't';
      },
      WebSocket: FakeSocket,
      heartbeatMs: 0,
      network: { onOnline: (listener) => void online.push(listener) },
      backoff: { initialMs: 10, jitter: 0 },
    });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.instances[0]!.open();
    FakeSocket.instances[0]!.close(1006);
    await vi.advanceTimersByTimeAsync(20); // the reconnect waits for its token
    for (const listener of online) listener();
    giveToken();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.instances[1]!.open();
    client.close();
    expect(FakeSocket.instances.filter((socket) => socket.readyState === 1)).toEqual([]);
  });

  it('resumes a channel left and subscribed again while reconnecting from where it was', async () => {
    vi.useFakeTimers();
    const { client, socket } = await connected({ backoff: { initialMs: 10, jitter: 0 } });
    const got: string[] = [];
    const handler = (e: ClientEvent) => void got.push(e.id);
    const off = client.subscribe('product:p1', handler);
    await vi.advanceTimersByTimeAsync(0);
    socket.receive(event('product:p1', 'e1', 'c1'));
    socket.close(1006);
    // A component re-rendering while the connection is down: cleanup, then setup.
    off();
    client.subscribe('product:p1', handler);
    await vi.advanceTimersByTimeAsync(20);
    const next = FakeSocket.instances[1]!;
    next.open();
    await vi.advanceTimersByTimeAsync(0);
    const subscribe = next.sent.find((message) => message.type === 'subscribe');
    // Before, it subscribed without a cursor (from the live end): what came in between was missed.
    expect(JSON.stringify(subscribe)).toContain('"cursor":"c1"');
    client.close();
  });

  it('unsubscribes on the next open a channel left while away, when a durable session would bring it back', async () => {
    vi.useFakeTimers();
    const { client, socket } = await connected({
      session: { id: 'tab-1' },
      backoff: { initialMs: 10, jitter: 0 },
    });
    const off = client.subscribe('product:p1', () => undefined);
    await vi.advanceTimersByTimeAsync(0);
    socket.close(1006);
    off();
    await vi.advanceTimersByTimeAsync(20);
    const next = FakeSocket.instances[1]!;
    next.open();
    await vi.advanceTimersByTimeAsync(0);
    expect(next.sent).toContainEqual({ type: 'unsubscribe', channel: 'product:p1' });
    client.close();
  });

  it('arms no timer again when closed while a token refresh waited for its token', async () => {
    vi.useFakeTimers();
    let refuseToken: (token: string | null) => void = () => undefined;
    let fetches = 0;
    const { client, socket } = await connected({
      token: () =>
        ++fetches === 1
          ? Promise.resolve('t')
          : new Promise<string | null>((resolve) => {
              refuseToken = resolve;
            }),
    });
    socket.receive({ ...WELCOME, expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await vi.advanceTimersByTimeAsync(40_000); // the refresh begins, 30 s ahead of the expiry
    expect(fetches).toBe(2);
    client.close();
    refuseToken(null); // the token server fails after the close
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps delivering a message's other frames when a channel handler throws", async () => {
    const { client, socket } = await connected();
    const thrown: unknown[] = [];
    const onUncaught = (error: unknown) => void thrown.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const others: string[] = [];
      client.subscribe('product:p1', () => {
        throw new Error('handler bug');
      });
      client.subscribe('product:p2', (e) => void others.push(e.id));
      socket.receiveBatch([event('product:p1', 'e1'), event('product:p2', 'e2'), event('product:p2', 'e3')]);
      expect(others).toEqual(['e2', 'e3']);
      await vi.waitFor(() => expect(thrown).toHaveLength(1));
    } finally {
      process.off('uncaughtException', onUncaught);
      client.close();
    }
  });
});
