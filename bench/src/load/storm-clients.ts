/**
 * The storm's clients, a process of their own: `count` clients of one server on one channel (room), all of
 * which the parent cuts off at once, lets miss events, and sends back at once. Each client checks every event
 * it ever receives against the version it expects next (the benchmark's events of one record are numbered
 * 1, 2, 3, …), so a gap or a duplicate is counted wherever it happens, and times its own return: from the
 * reconnect order to the moment it is live again with exactly the events it missed.
 *
 * The two servers differ only in how a client resumes: on the gateway a new connection subscribes with the
 * cursor of the last event seen and is done at the `live` frame; on Socket.IO the same `Socket` reconnects and
 * its connection-state recovery (pid + offset of the last packet) replays the missed packets before `connect`.
 */
import { framesOfMessage } from '@inv/contracts';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { now, summarize } from '../stats.js';
import { gatewayUrl } from './gateway-url.js';
import type { StormChildMessage, StormConfig, StormParentMessage, StormResult } from './storm-protocol.js';

const config = JSON.parse(process.argv[2] ?? '{}') as StormConfig;

function send(message: StormChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

/** What the two kinds of client have in common: the checks, the counts and the timing of one client. */
class Tally {
  lastVersion = 0;
  /** Events since the last reconnect order. */
  sinceResume = 0;
  /** The server said this client is live again (gateway: `live`; Socket.IO: `connect` with `recovered`). */
  resumed = false;
  doneAt = 0;
  gaps = 0;
  duplicates = 0;
  notRecovered = false;
  /** Counted among the clients that saw the awaited version. */
  reachedAwaited = false;

  constructor(private readonly storm: Storm) {}

  /** An event's data, parsed once by whichever client read it. */
  event(data: { version?: unknown } | undefined): void {
    const version = data?.version;
    if (typeof version !== 'number') return;
    if (version <= this.lastVersion) this.duplicates++;
    else {
      if (this.lastVersion > 0 && version !== this.lastVersion + 1) this.gaps++;
      this.lastVersion = version;
    }
    this.sinceResume++;
    this.storm.progress(this);
  }

  live(): void {
    this.resumed = true;
    this.storm.progress(this);
  }
}

interface StormClient {
  tally: Tally;
  /** First connection, subscribed to the topic. */
  open(): Promise<void>;
  /** Cut off without a goodbye. */
  drop(): void;
  /** Reconnect and resume; resolves once the transport is open (the resume itself is counted by the tally). */
  resume(): Promise<void>;
}

class GatewayClient implements StormClient {
  readonly tally: Tally;
  private socket: WebSocket | null = null;
  private cursor: string | undefined;

  constructor(storm: Storm) {
    this.tally = new Tally(storm);
  }

  open(): Promise<void> {
    return this.connect(undefined, (frame) => frame.type === 'subscribed');
  }

  resume(): Promise<void> {
    return this.connect(this.cursor, () => false);
  }

  drop(): void {
    this.socket?.terminate();
    this.socket = null;
  }

  private connect(cursor: string | undefined, ready: (frame: { type: string }) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(gatewayUrl(config.url), { perMessageDeflate: false });
      this.socket = socket;
      socket.on('message', (data) => {
        for (const text of framesOfMessage(data.toString())) onFrame(text);
      });
      const onFrame = (text: string) => {
        const frame = JSON.parse(text) as {
          type: string;
          channel?: string;
          cursor?: string;
          data?: { version?: unknown };
        };
        if (frame.channel !== config.topic) return;
        if (frame.data !== undefined) {
          this.cursor = frame.cursor;
          this.tally.event(frame.data);
        } else if (frame.type === 'subscribed') {
          this.cursor ??= frame.cursor;
        } else if (frame.type === 'live') this.tally.live();
        else if (frame.type === 'error' || frame.type === 'reset') reject(new Error(`gateway: ${text}`));
        if (ready(frame)) resolve();
      };
      socket.once('open', () => {
        socket.send(JSON.stringify({ type: 'subscribe', channel: config.topic, cursor }));
        if (cursor !== undefined) resolve();
      });
      // Also after the open: a reset connection reports an error, which must not go unhandled.
      socket.on('error', reject);
    });
  }
}

class SocketIoClient implements StormClient {
  readonly tally: Tally;
  private readonly socket: Socket;

  constructor(storm: Storm) {
    this.tally = new Tally(storm);
    this.socket = io(config.url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      autoConnect: false,
    });
    // The relay emits each event as the JSON text it read from NATS.
    this.socket.on('event', (text: string) => this.tally.event(JSON.parse(text).data));
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => this.socket.emit('join', config.topic, () => resolve()));
      this.socket.once('connect_error', reject);
      this.socket.connect();
    });
  }

  /** Closes the transport only: the server keeps the session for recovery (a `disconnect()` would end it). */
  drop(): void {
    this.socket.io.engine?.close();
  }

  resume(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => {
        // The missed packets arrive before `connect` and are emitted first; a session not recovered gets none.
        if (this.socket.recovered) this.tally.live();
        else this.tally.notRecovered = true;
      });
      this.socket.io.once('open', () => resolve());
      this.socket.once('connect_error', reject);
      this.socket.connect();
    });
  }
}

/** The clients of this process and the storm in progress. */
class Storm {
  readonly clients: StormClient[] = [];
  private missed = -1;
  private startedAt = 0;
  private complete = 0;
  private awaitVersion = Number.POSITIVE_INFINITY;
  private reached = 0;
  private onAllReached: (() => void) | null = null;
  private onAllComplete: (() => void) | null = null;

  progress(tally: Tally): void {
    if (this.onAllReached && !tally.reachedAwaited && tally.lastVersion >= this.awaitVersion) {
      tally.reachedAwaited = true;
      if (++this.reached === this.clients.length) this.onAllReached();
    }
    if (this.missed >= 0 && tally.doneAt === 0 && tally.resumed && tally.sinceResume === this.missed) {
      tally.doneAt = now();
      if (++this.complete === this.clients.length) this.onAllComplete?.();
    }
  }

  /** Every client has seen the event of `version` (the one their cursors will point at). */
  awaitAll(version: number, timeoutMs: number): Promise<void> {
    this.missed = -1;
    this.awaitVersion = version;
    this.reached = 0;
    for (const { tally } of this.clients) {
      tally.reachedAwaited = tally.lastVersion >= version;
      if (tally.reachedAwaited) this.reached++;
    }
    return within(timeoutMs, `every client to see version ${version}`, (done) => {
      this.onAllReached = done;
      if (this.reached >= this.clients.length) done();
    }).finally(() => {
      this.onAllReached = null;
    });
  }

  async reconnect(missed: number, timeoutMs: number): Promise<StormResult> {
    this.complete = 0;
    this.awaitVersion = Number.POSITIVE_INFINITY;
    for (const { tally } of this.clients) {
      tally.sinceResume = 0;
      tally.resumed = false;
      tally.doneAt = 0;
      tally.notRecovered = false;
    }
    this.missed = missed;
    this.startedAt = now();
    const allDone = within(timeoutMs, 'every client to resume', (done) => {
      this.onAllComplete = done;
    }).then(
      () => true,
      () => false,
    );
    await inFlight(this.clients, config.concurrency, (client) => client.resume().catch(() => undefined));
    await allDone;
    this.onAllComplete = null;
    const times = this.clients.filter((c) => c.tally.doneAt > 0).map((c) => c.tally.doneAt - this.startedAt);
    const summary = summarize(times);
    const tallies = this.clients.map((c) => c.tally);
    return {
      allMs: this.complete === this.clients.length ? summary.max : Number.NaN,
      p50Ms: summary.p50,
      p99Ms: summary.p99,
      complete: this.complete,
      incomplete: this.clients.length - this.complete,
      gaps: tallies.reduce((sum, t) => sum + t.gaps, 0),
      duplicates: tallies.reduce((sum, t) => sum + t.duplicates, 0),
      notRecovered: tallies.filter((t) => t.notRecovered).length,
    };
  }
}

function within(timeoutMs: number, what: string, start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
    start(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function inFlight<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

const storm = new Storm();
const Client = config.target === 'gateway' ? GatewayClient : SocketIoClient;
for (let i = 0; i < config.count; i++) storm.clients.push(new Client(storm));

async function handle(message: StormParentMessage): Promise<StormChildMessage> {
  switch (message.type) {
    case 'await':
      await storm.awaitAll(message.version, message.timeoutMs);
      return { type: 'done' };
    case 'drop':
      for (const client of storm.clients) client.drop();
      return { type: 'done' };
    case 'reconnect':
      return { type: 'storm', result: await storm.reconnect(message.missed, message.timeoutMs) };
    case 'stop':
      for (const client of storm.clients) client.drop();
      return { type: 'done' };
  }
}

process.on('message', (message: StormParentMessage) => {
  handle(message).then(
    (answer) => send(answer).then(() => message.type === 'stop' && process.exit(0)),
    (error: unknown) => send({ type: 'error', message: String(error) }),
  );
});

const started = now();
inFlight(storm.clients, config.concurrency, (client) => client.open()).then(
  () => send({ type: 'ready', connectMs: now() - started }),
  (error: unknown) => send({ type: 'error', message: String(error) }).then(() => process.exit(1)),
);
