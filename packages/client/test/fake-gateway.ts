import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  type ControlFrame,
  decodeCursor,
  type EventFrame,
  encodeCursor,
  WS_CLOSE,
  WS_LIMITS,
} from '@inv/contracts';
import { WebSocket, WebSocketServer } from 'ws';

/** The cursor after the n-th event of a channel (the fake numbers each channel's events; the gateway, its stream's). */
export const cursorAt = (n: number): string => encodeCursor({ seq: n, epoch: 1 });

/** One client connection as the fake gateway sees it. */
export interface FakeConnection {
  socket: WebSocket;
  url: URL;
  /** The token it connected with (`?access_token=`). */
  token: string | null;
  /** Every message the client sent, parsed, in order. */
  received: Array<Record<string, unknown>>;
  /** Channels it is subscribed to and live on. */
  live: Set<string>;
  openedAt: number;
}

export interface FakeGatewayOptions {
  /** The welcome frame's `expiresAt`, this long after each connection opens (none: tokens never expire). */
  tokenLifetimeMs?: number;
  /** Whether a `refresh` token is accepted (INVALID_TOKEN otherwise). */
  acceptsRefresh?: (token: string) => boolean;
}

/**
 * A gateway in the test's process, in the spirit of centrifuge-js's fake server: a real WebSocket server (the
 * `ws` package on a free port) speaking the protocol of `@inv/contracts`' ws-protocol.ts, with each channel's
 * events in memory. Cursors are the gateway's (`cursorAt(n)`: n events of the channel seen); a subscribe with a cursor gets `subscribed`,
 * the events after it, then `live`; a cursor before the channel's `resetFloor` gets `reset cursor_expired`.
 * The test plays the rest: refusing connections, cutting them, shutting down with a `reconnect` hint.
 */
export class FakeGateway extends EventEmitter {
  readonly connections: FakeConnection[] = [];
  /** Close code for every new connection right after it opens (a gateway refusing it); null accepts them. */
  refuseWith: number | null = null;
  private readonly log = new Map<string, EventFrame[]>();
  private readonly resetFloor = new Map<string, number>();
  private ids = 0;

  private constructor(
    private readonly server: WebSocketServer,
    private readonly options: FakeGatewayOptions,
  ) {
    super();
    server.on('connection', (socket, request) => this.accept(socket, new URL(request.url!, 'ws://fake')));
  }

  static start(options: FakeGatewayOptions = {}): Promise<FakeGateway> {
    return new Promise((resolve, reject) => {
      const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      server.once('listening', () => resolve(new FakeGateway(server, options)));
      server.once('error', reject);
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ws`;
  }

  /** The connections still open. */
  get open(): FakeConnection[] {
    return this.connections.filter((c) => c.socket.readyState === WebSocket.OPEN);
  }

  /** Appends `count` events to a channel and sends them to every connection live on it. */
  publish(channel: string, count = 1): EventFrame[] {
    const events = this.events(channel);
    const added: EventFrame[] = [];
    for (let i = 0; i < count; i++) {
      const event: EventFrame = {
        type: 'inventory.updated',
        channel,
        id: `e-${++this.ids}`,
        cursor: cursorAt(events.length + 1),
        occurredAt: new Date().toISOString(),
        data: { version: events.length + 1 },
      };
      events.push(event);
      added.push(event);
      for (const connection of this.open) if (connection.live.has(channel)) this.send(connection, event);
    }
    return added;
  }

  /** Cursors of this channel older than now can no longer be resumed (retention passed them). */
  expireCursors(channel: string): void {
    this.resetFloor.set(channel, this.events(channel).length);
  }

  send(connection: FakeConnection, frame: ControlFrame | EventFrame): void {
    connection.socket.send(JSON.stringify(frame));
  }

  /** Cuts every open connection without a close handshake (a crash, a network loss). */
  dropAll(): void {
    for (const connection of this.open) connection.socket.terminate();
  }

  /** A graceful shutdown: every client is asked to reconnect (after `afterMs`), then closed with 1001. */
  shutdown(afterMs?: number): void {
    for (const connection of this.open) {
      this.send(connection, {
        type: 'reconnect',
        reason: 'shutdown',
        ...(afterMs === undefined ? {} : { afterMs }),
      });
      connection.socket.close(WS_CLOSE.goingAway, 'server shutting down');
    }
  }

  /** Resolves with the next connection (or the one already made, when `index` is below their count). */
  connection(index: number): Promise<FakeConnection> {
    return this.until(() => this.connections[index], 'connection');
  }

  /** Resolves once a connection has sent a message `matches` accepts; returns that message. */
  message(connection: FakeConnection, matches: (message: Record<string, unknown>) => boolean) {
    return this.until(() => connection.received.find(matches), 'message');
  }

  close(): Promise<void> {
    for (const connection of this.connections) connection.socket.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private until<T>(value: () => T | undefined, event: 'connection' | 'message'): Promise<T> {
    return new Promise((resolve) => {
      const check = () => {
        const found = value();
        if (found === undefined) return;
        this.off(event, check);
        resolve(found);
      };
      this.on(event, check);
      check();
    });
  }

  private events(channel: string): EventFrame[] {
    const events = this.log.get(channel) ?? [];
    this.log.set(channel, events);
    return events;
  }

  private accept(socket: WebSocket, url: URL): void {
    const connection: FakeConnection = {
      socket,
      url,
      token: url.searchParams.get('access_token'),
      received: [],
      live: new Set(),
      openedAt: Date.now(),
    };
    this.connections.push(connection);
    if (this.refuseWith !== null) {
      socket.close(this.refuseWith, 'refused');
      this.emit('connection');
      return;
    }
    const lifetime = this.options.tokenLifetimeMs;
    this.send(connection, {
      type: 'welcome',
      connectionId: `c-${this.connections.length}`,
      sessionId: url.searchParams.get('session'),
      heartbeatMs: 30_000,
      limits: {
        maxFrameBytes: WS_LIMITS.maxFrameBytes,
        maxChannelsPerConnection: WS_LIMITS.maxChannelsPerConnection,
        maxMessagesPerSecond: WS_LIMITS.maxMessagesPerSecond,
      },
      expiresAt: lifetime === undefined ? null : new Date(Date.now() + lifetime).toISOString(),
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      connection.received.push(message);
      this.answer(connection, message);
      this.emit('message');
    });
    this.emit('connection');
  }

  private answer(connection: FakeConnection, message: Record<string, unknown>): void {
    switch (message.type) {
      case 'subscribe': {
        const entries = (message.channels as Array<string | { channel: string; cursor?: string }>) ?? [
          { channel: message.channel as string, cursor: message.cursor as string | undefined },
        ];
        for (const entry of entries) {
          const { channel, cursor } =
            typeof entry === 'string' ? { channel: entry, cursor: undefined } : entry;
          this.subscribe(connection, channel, cursor);
        }
        return;
      }
      case 'unsubscribe':
        connection.live.delete(message.channel as string);
        this.send(connection, { type: 'unsubscribed', channel: message.channel as string });
        return;
      case 'ping':
        this.send(connection, { type: 'pong', time: new Date().toISOString() });
        return;
      case 'refresh': {
        const requestId = message.requestId as string | undefined;
        if (this.options.acceptsRefresh?.(message.token as string) ?? true) {
          const lifetime = this.options.tokenLifetimeMs;
          const expiresAt = lifetime === undefined ? null : new Date(Date.now() + lifetime).toISOString();
          this.send(connection, { type: 'refreshed', expiresAt, requestId });
        } else {
          this.send(connection, { type: 'error', code: 'INVALID_TOKEN', message: 'refused', requestId });
        }
        return;
      }
      default:
        return;
    }
  }

  private subscribe(connection: FakeConnection, channel: string, cursor: string | undefined): void {
    const events = this.events(channel);
    const position = cursor === undefined ? events.length : (decodeCursor(cursor)?.seq ?? 0);
    if (cursor !== undefined && position < (this.resetFloor.get(channel) ?? 0)) {
      this.send(connection, {
        type: 'reset',
        channel,
        reason: 'cursor_expired',
        cursor: cursorAt(events.length),
      });
      connection.live.add(channel);
      return;
    }
    this.send(connection, { type: 'subscribed', channel, cursor: cursorAt(position) });
    if (cursor === undefined) {
      connection.live.add(channel);
      return;
    }
    const missed = events.slice(position);
    for (const event of missed) this.send(connection, event);
    this.send(connection, { type: 'live', channel, replayed: missed.length });
    connection.live.add(channel);
  }
}
