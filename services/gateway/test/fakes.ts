import {
  type Channel,
  decodeCursor,
  formatChannel,
  framesOfMessage,
  stockSubject,
  subjectMatches,
} from '@inv/contracts';
import pino from 'pino';
import { Registry } from 'prom-client';
import { expect, vi } from 'vitest';
import { Connection } from '../src/app/connection.js';
import { HubRegistry } from '../src/app/hub.js';
import { LiveRouter } from '../src/app/live-router.js';
import type {
  GatewaySocket,
  LiveFeed,
  LiveMessage,
  RawMessage,
  ReadRange,
  StreamLookup,
  StreamReader,
  StreamStateSource,
} from '../src/app/ports.js';
import { Semaphore } from '../src/app/semaphore.js';
import { Subscriptions } from '../src/app/subscriptions.js';
import type { ConnectionLimits } from '../src/config.js';
import { scopeOf } from '../src/domain/access.js';
import type { StreamState } from '../src/domain/cursor-check.js';
import { RecentWindow } from '../src/domain/recent-window.js';
import { RecentEvents } from '../src/domain/stored-event.js';
import { createGatewayMetrics } from '../src/infra/metrics.js';

/**
 * In-memory fakes of the gateway's ports (the EVENTS stream, its live feed, a client's socket), for unit tests of
 * the live router, hubs and subscriptions: every race is scripted, nothing waits on a network.
 */

/** A stock event's subject in warehouse `w` of product `productId`. */
export const productSubject = (productId: string, warehouseId = 'w') =>
  stockSubject({ productId, warehouseId }, 'inventory.updated');

/** An event body the gateway decodes (a type it does not know is forwarded as it is), padded to `pad` bytes. */
export const eventBody = (id: string, pad = 0) =>
  Buffer.from(
    JSON.stringify({
      id,
      type: 'test.happened',
      occurredAt: new Date().toISOString(),
      data: { pad: 'x'.repeat(pad) },
    }),
  );

/** The EVENTS stream: its messages, its bounds, reads of ranges and single messages. */
export class FakeStream implements StreamStateSource, StreamReader, StreamLookup {
  readonly epoch = 1;
  readonly messages = new Map<number, RawMessage>();
  lastSeq = 0;
  /** Scripted ends for the next looks (a stale answer); otherwise the true end. */
  readonly looks: number[] = [];
  /** Every range read, as [from, to, filters]. */
  readonly reads: Array<{ from: number; to: number; filters: readonly string[] }> = [];
  private gate: Promise<void> | null = null;
  private openGate: () => void = () => undefined;
  private gated: (filters: readonly string[]) => boolean = () => true;
  private gatedFrom = 0;

  append(subject: string, pad = 0): RawMessage {
    const seq = ++this.lastSeq;
    const message = { seq, subject, data: eventBody(`e${seq}`, pad) };
    this.messages.set(message.seq, message);
    return message;
  }

  async current(): Promise<StreamState> {
    return { epoch: this.epoch, firstSeq: 1, lastSeq: this.looks.shift() ?? this.lastSeq };
  }

  /**
   * Reads (those on the filters `which` picks) wait before each message from sequence `from` on until `resume()`:
   * a slow stream.
   */
  pause(which: (filters: readonly string[]) => boolean = () => true, from = 0): void {
    this.gated = which;
    this.gatedFrom = from;
    this.gate ??= new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  resume(): void {
    this.openGate();
    this.gate = null;
  }

  /** Reads fail (the stream unavailable) while set. */
  failing = false;

  async read({ filters, fromSeq, toSeq, onMessage, stopped }: ReadRange): Promise<void> {
    this.reads.push({ from: fromSeq, to: toSeq, filters });
    if (this.failing) throw new Error('stream unavailable');
    for (let seq = fromSeq; seq <= toSeq; seq++) {
      if (this.gate && seq >= this.gatedFrom && this.gated(filters)) await this.gate;
      if (stopped()) return;
      const message = this.messages.get(seq);
      if (!message || !filters.some((filter) => subjectMatches(filter, message.subject))) continue;
      await onMessage(message);
    }
  }

  async messageAt(seq: number): Promise<RawMessage | null> {
    return this.messages.get(seq) ?? null;
  }
}

/** The live feed (RePublish on `live.>`): messages arrive only when a test delivers them. */
export class FakeFeed implements LiveFeed {
  private onMessage: (message: LiveMessage) => void = () => undefined;

  subscribe(_filter: string, onMessage: (message: LiveMessage) => void): () => void {
    this.onMessage = onMessage;
    return () => {
      this.onMessage = () => undefined;
    };
  }

  async flush(): Promise<void> {}

  deliver(message: RawMessage): void {
    this.onMessage({ ...message, lastSeq: 0 });
  }
}

/** A client's socket: the frames sent to it, parsed; its send queue can be made to look full. */
export class FakeSocket implements GatewaySocket {
  bufferedAmount = 0;
  /** A client that reads nothing: what is sent stays in `bufferedAmount` until `drain()` (else it is written at once). */
  stalled = false;
  readonly frames: Array<Record<string, unknown>> = [];
  /** How many frames each WebSocket message held (1 unless the connection batches). */
  readonly messages: number[] = [];
  closedWith: number | null = null;
  /** Written-callbacks of frames sent while the queue looked full, called by `drain()`. */
  private readonly unwritten: Array<() => void> = [];

  send(data: string | Buffer, _options: { binary: boolean }, callback?: (error?: Error) => void): void {
    const frames = framesOfMessage(data.toString());
    if (this.stalled) this.bufferedAmount += data.length;
    this.messages.push(frames.length);
    for (const frame of frames) this.frames.push(JSON.parse(frame));
    if (!callback) return;
    if (this.bufferedAmount > 0) this.unwritten.push(() => callback());
    else queueMicrotask(() => callback());
  }

  cork(): void {}

  uncork(): void {}

  /** The client read everything queued. */
  drain(): void {
    this.bufferedAmount = 0;
    for (const written of this.unwritten.splice(0)) written();
  }

  close(code: number): void {
    this.closedWith ??= code;
  }

  terminate(): void {
    this.closedWith ??= 1006;
  }

  ping(): void {}

  /** The stream sequences of the event frames of a channel, in the order sent. */
  eventSeqs(channel: string): number[] {
    return this.frames
      .filter((frame) => frame.channel === channel && typeof frame.id === 'string')
      .map((frame) => decodeCursor(frame.cursor)?.seq ?? Number.NaN);
  }

  controls(type: string): Array<Record<string, unknown>> {
    return this.frames.filter((frame) => frame.type === type);
  }
}

export const LIMITS: ConnectionLimits = {
  maxFrameBytes: 64 * 1024,
  maxChannels: 10,
  maxMessagesPerSecond: 1000,
  maxSendQueueBytes: 1024 * 1024,
  maxReplays: 4,
};

/**
 * One gateway process on fakes: the stream, the live feed, the live router with an optional recent-events
 * window, the hubs and the subscriptions, and clients connecting to it.
 */
export function fakeGateway(
  options: { windowEvents?: number; readSlots?: number; backfillSlots?: number } = {},
) {
  const stream = new FakeStream();
  const feed = new FakeFeed();
  const metrics = createGatewayMetrics(new Registry());
  const logger = pino({ level: 'silent' });
  const hubs = new HubRegistry(60_000);
  const window = options.windowEvents ? new RecentWindow(options.windowEvents, 1 << 30) : undefined;
  const backfillSlots = new Semaphore(options.backfillSlots ?? 4);
  const router = new LiveRouter(
    {
      feed,
      reader: stream,
      lookup: stream,
      stream,
      readSlots: backfillSlots,
      metrics,
      logger,
      recent: window,
    },
    hubs,
  );
  hubs.bind({ router, stream, events: new RecentEvents(), metrics });
  const subscriptions = new Subscriptions({
    hubs,
    reader: stream,
    stream,
    readSlots: new Semaphore(options.readSlots ?? 4),
    recent: window ? router : undefined,
    metrics,
    logger,
  });
  let clients = 0;
  return {
    stream,
    feed,
    router,
    hubs,
    subscriptions,
    backfillSlots,
    metrics,
    /** Appends an event of product `productId` (`pad` bytes bigger) to the stream and, unless `lost`, delivers it live. */
    publish(
      productId: string,
      options: { lost?: boolean; pad?: number; warehouseId?: string } = {},
    ): RawMessage {
      const message = stream.append(productSubject(productId, options.warehouseId), options.pad);
      if (!options.lost) feed.deliver(message);
      return message;
    },
    /** A client of the inventory endpoint seeing `warehouses` (every one by default), batching frames if asked. */
    connect(warehouses = ['*'], options: { batching?: boolean } = {}) {
      const socket = new FakeSocket();
      const connection = new Connection(
        `c${++clients}`,
        socket,
        'inventory',
        scopeOf({ warehouses }),
        'user',
        LIMITS,
        metrics,
      );
      connection.batching = options.batching ?? false;
      return { socket, connection };
    },
    /** Subscribes a connection to `product:<productId>`, from a cursor when given. */
    subscribe(connection: Connection, productId: string, cursor?: number) {
      const channel: Channel = { kind: 'product', productId };
      subscriptions.subscribe(connection, {
        name: formatChannel(channel),
        channel,
        cursor: cursor === undefined ? null : { seq: cursor, epoch: stream.epoch },
      });
    },
  };
}

/** Lets every pending promise callback and immediate run (the fakes answer without real waiting). */
export const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A started gateway on fakes with `count` events routed live, alternately of products `p` and `q`. */
export async function withHistory(options: Parameters<typeof fakeGateway>[0], count: number) {
  const world = fakeGateway(options);
  await world.router.ready;
  // A watcher keeps the channel's hub (and so the live router's reads) going.
  const watcher = world.connect();
  world.subscribe(watcher.connection, 'p');
  await vi.waitFor(() => expect(watcher.socket.controls('subscribed')).toHaveLength(1));
  for (let i = 0; i < count; i++) world.publish(i % 2 === 0 ? 'p' : 'q');
  await vi.waitFor(() => expect(world.router.position).toBe(count));
  return { world, watcher };
}
