import {
  type ControlFrame,
  type CursorPosition,
  decodeCursor,
  framesOfMessage,
  isControlFrame,
  WS_BATCH,
  WS_CLOSE,
  WS_LIMITS,
} from '@inv/contracts';
import { type BackoffOptions, DEFAULT_BACKOFF, reconnectDelay, suggestedDelay } from './backoff.js';
import { type ConnectionInput, nextConnectionState } from './connection-state.js';
import { isRepeat, RecentIds } from './dedupe.js';
import { Emitter } from './emitter.js';
import type {
  ClientEvent,
  ConnectionState,
  KeyValueStorage,
  ResetNotice,
  ServerError,
  WebSocketFactory,
  WebSocketLike,
} from './types.js';

export interface InventoryClientOptions {
  /** `ws://host:3000/ws` or `ws://host:3000/ws/warehouses`. */
  url: string;
  /**
   * An access token, or a function (`getToken`) asked for a fresh one before every (re)connection and ahead of
   * the current token's expiry: the fresh one is sent on the live connection (`refresh`), which the gateway
   * would otherwise close with 4401 at the expiry.
   */
  token?: string | (() => string | null | Promise<string | null>);
  /** How long before its token expires a connection asks `token()` for a fresh one (at most half the lifetime). */
  refreshAheadMs?: number;
  /** The WebSocket class; defaults to the global one (browsers, Node >= 22). Pass `ws` on Node 20. */
  WebSocket?: WebSocketFactory;
  /**
   * A durable session: the gateway keeps this session's position per channel, so a client that lost its local
   * state (a page reload) resumes where it was. `storage` keeps a generated id across reloads.
   */
  session?: { id?: string; storage?: KeyValueStorage; storageKey?: string };
  /** Keeps each channel's cursor, so a reload resumes by cursor even without a session. */
  cursorStorage?: KeyValueStorage;
  backoff?: Partial<BackoffOptions>;
  /** Application-level ping; a connection silent for twice this long is replaced. 0 disables. */
  heartbeatMs?: number;
  /** How often a session's positions are acknowledged to the gateway (and whenever the page is hidden). */
  ackIntervalMs?: number;
  /**
   * Surface on `on('event')` the events of channels the application did not subscribe to itself: the default
   * `global` a connection starts with, and channels a durable session brought back that the application has not
   * subscribed to (again). Off by default.
   */
  includeUnsubscribedChannels?: boolean;
  /** Ask the gateway for batched frames (`?batch=1`: several per message when it has several at once); on by default. */
  batchFrames?: boolean;
  /** Tells when the page is hidden or unloaded; defaults to the browser's `pagehide` and `visibilitychange`. */
  page?: PageLifecycle;
  /** Tells when the network comes back (the client then reconnects at once); defaults to the browser's `online`. */
  network?: NetworkStatus;
}

/** When the device is back online: a client waiting out its backoff reconnects at once. */
export interface NetworkStatus {
  onOnline(listener: () => void): void;
}

/** The browser's `online` event (nothing where there is none, e.g. Node). */
export const browserNetwork: NetworkStatus = {
  onOnline(listener) {
    (globalThis as { addEventListener?: (type: string, listener: () => void) => void }).addEventListener?.(
      'online',
      listener,
    );
  },
};

/** When the page goes away: the client acknowledges what was handled, so that a reload does not get it again. */
export interface PageLifecycle {
  onHidden(listener: () => void): void;
}

/** The browser's page lifecycle: `pagehide` (unload, bfcache) and `visibilitychange` to hidden. */
const browserPage: PageLifecycle = {
  onHidden(listener) {
    const scope = globalThis as {
      addEventListener?: (type: string, listener: () => void) => void;
      document?: {
        visibilityState?: string;
        addEventListener?: (type: string, listener: () => void) => void;
      };
    };
    scope.addEventListener?.('pagehide', listener);
    scope.document?.addEventListener?.('visibilitychange', () => {
      if (scope.document?.visibilityState === 'hidden') listener();
    });
  },
};

export type EventHandler = (event: ClientEvent) => void;

interface ChannelState {
  handlers: Set<EventHandler>;
  resetHandlers: Set<(notice: ResetNotice) => void>;
  cursor: string | undefined;
  /** `cursor` decoded: an event of this channel at or before it was handled already. */
  position: CursorPosition | null;
  ackedCursor: string | undefined;
}

interface ClientEvents extends Record<string, unknown> {
  state: ConnectionState;
  event: ClientEvent;
  reset: ResetNotice;
  error: ServerError;
  live: { channel: string; replayed: number };
  subscribed: { channel: string; cursor: string };
  /** The live connection took a fresh token; it now expires at `expiresAt` (ISO time, null: never). */
  refreshed: { expiresAt: string | null };
}

const OPEN = 1;
/** Messages the SDK sends back to back before pacing itself. */
const PACE_BURST = 10;
const SESSION_KEY = 'inventory-client.session';
const CURSOR_KEY = 'inventory-client.cursor.';

/**
 * A client of the realtime gateway: subscribes to channels, reconnects with exponential backoff and jitter,
 * resubscribes every channel from its last cursor (the gateway replays what was missed), drops duplicates by
 * event id, and tells the application when a channel was reset so it reloads over REST.
 */
export class InventoryClient {
  private readonly emitter = new Emitter<ClientEvents>();
  private readonly channels = new Map<string, ChannelState>();
  /** Events already surfaced on `on('event')`: one that several subscribed channels carry is surfaced once. */
  private readonly surfaced = new RecentIds();
  private duplicates = 0;
  private readonly backoff: BackoffOptions;
  private socket: WebSocketLike | null = null;
  /** The one connection state; it changes only in `move`, by the transitions of connection-state.ts. */
  private connection: ConnectionState = 'closed';
  /** Attempts since the gateway last served a connection (`served`): the exponent of the backoff. */
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  /** The delay the gateway suggested for the next reconnect (its shutdown spreads its clients out). */
  private suggestedDelayMs: number | null = null;
  /** Whether the gateway served the current socket (`served`): a reconnect hint on one it never served waits. */
  private servedSocket = false;
  /** Counts the opens begun: one that finds a later one begun while it waited for its token gives way. */
  private opens = 0;
  /**
   * Channels left while no socket was open (the unsubscribe could not be sent), with their last cursor: subscribed
   * again before the next open, they resume from it; else the open unsubscribes them from the durable session.
   */
  private readonly leftWhileAway = new Map<string, string | undefined>();
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private ackTimer: ReturnType<typeof setInterval> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly pendingSubscribes = new Map<string, string | undefined>();
  private outbox: string[] = [];
  private paceTokens = PACE_BURST;
  private paceTokensAt = 0;
  private paceTimer: ReturnType<typeof setTimeout> | null = null;
  /** The gateway's limits, from its welcome frame (the defaults until then). */
  private limits: { maxFrameBytes: number; maxChannelsPerConnection: number; maxMessagesPerSecond: number } =
    {
      maxFrameBytes: WS_LIMITS.maxFrameBytes,
      maxChannelsPerConnection: WS_LIMITS.maxChannelsPerConnection,
      maxMessagesPerSecond: WS_LIMITS.maxMessagesPerSecond,
    };
  private refreshes = 0;
  private lastFrameAt = 0;
  /** When the connection's token expires (epoch ms), from the gateway's welcome or refreshed frame. */
  private expiresAt: number | null = null;
  readonly sessionId: string | null;

  constructor(private readonly options: InventoryClientOptions) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.sessionId = options.session ? resolveSessionId(options.session) : null;
    (options.network ?? browserNetwork).onOnline(() => this.reconnectNow());
    if (this.sessionId) (options.page ?? browserPage).onHidden(() => this.flushAcks());
  }

  get state(): ConnectionState {
    return this.connection;
  }

  /**
   * Events the gateway delivered again and the client dropped (at or before its channel's cursor). A resume by
   * cursor is exact, so this stays 0 except after a durable session whose stored position lagged behind.
   */
  get duplicatesDropped(): number {
    return this.duplicates;
  }

  /** The cursor of the last event seen on a channel: pass it to `subscribe` to resume elsewhere. */
  cursor(channel: string): string | undefined {
    return this.channels.get(channel)?.cursor;
  }

  on<K extends keyof ClientEvents>(name: K, listener: (value: ClientEvents[K]) => void): () => void {
    return this.emitter.on(name, listener);
  }

  connect(): this {
    if (this.move('connect')) void this.open();
    return this;
  }

  /**
   * Subscribes to a channel (`global`, `product:{id}`, `warehouse:{id}`, …); returns the unsubscribe function.
   * `cursor` resumes from an event seen earlier (e.g. before a reload).
   */
  subscribe(
    channel: string,
    handler: EventHandler,
    options: { cursor?: string; onReset?: (notice: ResetNotice) => void } = {},
  ): () => void {
    let state = this.channels.get(channel);
    if (!state) {
      const stored = this.options.cursorStorage?.getItem(CURSOR_KEY + channel) ?? undefined;
      const left = this.leftWhileAway.get(channel);
      this.leftWhileAway.delete(channel);
      const cursor = options.cursor ?? stored ?? left;
      state = {
        handlers: new Set(),
        resetHandlers: new Set(),
        cursor,
        position: decodeCursor(cursor),
        ackedCursor: undefined,
      };
      this.channels.set(channel, state);
      this.sendSubscribe(channel, state);
    }
    state.handlers.add(handler);
    if (options.onReset) state.resetHandlers.add(options.onReset);
    return () => {
      const current = this.channels.get(channel);
      if (!current) return;
      current.handlers.delete(handler);
      if (options.onReset) current.resetHandlers.delete(options.onReset);
      if (current.handlers.size === 0) {
        this.channels.delete(channel);
        // Not sent yet: nothing to undo on the gateway.
        if (this.pendingSubscribes.delete(channel)) return;
        if (this.socket?.readyState === OPEN) this.send({ type: 'unsubscribe', channel });
        else this.leftWhileAway.set(channel, current.cursor);
      }
    };
  }

  /**
   * Acknowledges now every channel's last handled event (a durable session resumes after it). Called on the
   * ack interval and when the page is hidden; call it after handling something that must not come again.
   */
  flushAcks(): void {
    this.acknowledge();
  }

  /** Closes the connection for good (no reconnection), acknowledging what was handled first. */
  close(): void {
    if (this.sessionId) this.acknowledge();
    this.move('close');
    this.clearTimers();
    this.socket?.close(1000, 'client closed');
    this.socket = null;
  }

  /** Opens a socket; the state is already `connecting` (first attempt) or `reconnecting`. */
  private async open(): Promise<void> {
    const open = ++this.opens;
    let url: string;
    try {
      url = await this.connectionUrl();
    } catch {
      if (open === this.opens) this.scheduleReconnect();
      return;
    }
    // Closed, or another open began while this one waited for its token (the network came back, a close and a
    // connect): only the last one opens a socket, or the others would stay open unseen.
    if (this.connection === 'closed' || open !== this.opens) return;
    const Ctor = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketFactory }).WebSocket;
    if (!Ctor) throw new Error('no WebSocket implementation: pass options.WebSocket (e.g. the ws package)');
    const socket = new Ctor(url);
    this.socket = socket;
    this.servedSocket = false;
    socket.onopen = () => this.onOpen(socket);
    socket.onmessage = (message) => {
      if (socket === this.socket) this.onMessage(message.data);
    };
    socket.onclose = (event) => this.onClose(socket, event.code);
    socket.onerror = () => undefined; // onclose follows and decides
  }

  private async connectionUrl(): Promise<string> {
    const url = new URL(this.options.url);
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    if (token) url.searchParams.set('access_token', token);
    // Batched frames (`?batch=1`) unless turned off: fewer, larger messages cost both ends far less. Messages are
    // read as batches either way.
    if (this.options.batchFrames ?? true) url.searchParams.set(WS_BATCH.query, '1');
    if (this.sessionId) {
      url.searchParams.set('session', this.sessionId);
      url.searchParams.set('acks', '1');
    }
    return url.toString();
  }

  private onOpen(socket: WebSocketLike): void {
    if (socket !== this.socket) return;
    this.lastFrameAt = Date.now();
    this.move('opened');
    // Left while away: the durable session still holds them (the unsubscribe never reached a gateway).
    if (this.sessionId)
      for (const channel of this.leftWhileAway.keys()) this.send({ type: 'unsubscribe', channel });
    this.leftWhileAway.clear();
    for (const [channel, state] of this.channels) this.sendSubscribe(channel, state);
    this.startTimers();
  }

  private onClose(socket: WebSocketLike, code: number): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.clearTimers();
    if (this.connection === 'closed') return;
    if (code === WS_CLOSE.unauthorized) {
      this.emitter.emit('error', { code: 'UNAUTHORIZED', message: 'the gateway refused the access token' });
    }
    if (code === WS_CLOSE.sessionTakenOver) {
      // Another connection (a reload, another tab with the same session id) took the session: reconnecting
      // would take it back and the two would take turns for ever.
      this.move('close');
      this.emitter.emit('error', {
        code: 'SESSION_TAKEN_OVER',
        message: 'a newer connection took over this durable session; this client stopped',
      });
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || !this.move('lost')) return;
    const delay = this.suggestedDelayMs ?? reconnectDelay(this.attempt, this.backoff);
    this.suggestedDelayMs = null;
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.move('retry')) void this.open();
    }, delay);
  }

  /**
   * The gateway served this connection (a channel subscribed, or a welcome when there is none to subscribe): the
   * backoff starts from its first delay again. Not on the socket's open: a gateway refusing a token (4401), a
   * connection over its limits (4430) or a subscription it cannot start (1013) closes right after the upgrade,
   * and a client that counted that as a success would come back every `initialMs` for ever.
   */
  private served(): void {
    this.attempt = 0;
    this.servedSocket = true;
  }

  /** The network is back: a client waiting out its backoff tries at once, and from the first delay again. */
  private reconnectNow(): void {
    if (this.connection !== 'reconnecting') return;
    this.attempt = 0;
    if (this.socket) return; // an attempt is under way already
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.move('retry')) void this.open();
  }

  private onMessage(raw: unknown): void {
    this.lastFrameAt = Date.now();
    for (const text of framesOfMessage(typeof raw === 'string' ? raw : String(raw))) this.onFrame(text);
  }

  private onFrame(text: string): void {
    let frame: { type?: unknown; channel?: unknown; id?: unknown };
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof frame?.type !== 'string') return;
    if (isControlFrame(frame as { type: string })) this.onControl(frame as ControlFrame);
    else if (typeof frame.channel === 'string' && typeof frame.id === 'string')
      this.onEvent(frame as ClientEvent);
  }

  private onControl(frame: ControlFrame): void {
    switch (frame.type) {
      case 'welcome':
        this.limits = frame.limits;
        this.scheduleRefresh(frame.expiresAt ?? null);
        if (this.channels.size === 0) this.served();
        return;
      case 'refreshed':
        this.scheduleRefresh(frame.expiresAt);
        this.emitter.emit('refreshed', { expiresAt: frame.expiresAt });
        return;
      case 'subscribed': {
        this.served();
        const state = this.channels.get(frame.channel);
        if (state && state.cursor === undefined) this.setCursor(frame.channel, state, frame.cursor);
        this.emitter.emit('subscribed', { channel: frame.channel, cursor: frame.cursor });
        return;
      }
      case 'reset': {
        this.served();
        const state = this.channels.get(frame.channel);
        const notice: ResetNotice = { channel: frame.channel, reason: frame.reason };
        if (state) {
          this.setCursor(frame.channel, state, frame.cursor);
          for (const handler of state.resetHandlers) handler(notice);
        }
        this.emitter.emit('reset', notice);
        return;
      }
      case 'live':
        this.emitter.emit('live', { channel: frame.channel, replayed: frame.replayed });
        return;
      case 'error':
        if (frame.code === 'INVALID_TOKEN') this.retryRefresh();
        this.emitter.emit('error', { code: frame.code, message: frame.message, channel: frame.channel });
        return;
      case 'reconnect': {
        // The gateway is shutting down: go to another instance, resuming by cursor, at once (the gateway hands
        // its clients over one by one, spread out) or after the delay an older gateway chose for this client.
        // A stopping gateway also answers every newcomer so: on a socket it never served, the backoff goes on
        // growing, or a client sent back to the same instance would reconnect in a tight loop until it is gone.
        const suggested = suggestedDelay(frame.afterMs, this.backoff);
        if (this.servedSocket) {
          this.attempt = 0;
          this.suggestedDelayMs = suggested ?? 0;
        } else {
          this.suggestedDelayMs = Math.max(suggested ?? 0, reconnectDelay(this.attempt, this.backoff));
        }
        this.socket?.close(1000, 'server asked to reconnect');
        return;
      }
      default:
        return;
    }
  }

  /**
   * Per-channel handlers get each event of their channel once; `on('event')` gets each event once whatever the
   * number of subscribed channels carrying it, and only for channels the application subscribed to unless
   * `includeUnsubscribedChannels`.
   */
  private onEvent(event: ClientEvent): void {
    const state = this.channels.get(event.channel);
    if (state) {
      const position = decodeCursor(event.cursor);
      if (isRepeat(position, state.position)) {
        this.duplicates++;
        return;
      }
      for (const handler of state.handlers) {
        try {
          handler(event);
        } catch (error) {
          // As for `on` listeners: a failing handler must not cost the other handlers, nor the frames after it in
          // the same message (other channels' events), their events.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
      // Handled once its handlers returned: only then may an acknowledgement say so.
      this.setCursor(event.channel, state, event.cursor, position);
    } else if (!this.options.includeUnsubscribedChannels) {
      return;
    }
    // Remembering ids costs memory only while someone listens: an event no listener saw cannot be a repeat.
    if (this.emitter.has('event') && this.surfaced.add(event.id)) this.emitter.emit('event', event);
  }

  private setCursor(
    channel: string,
    state: ChannelState,
    cursor: string,
    position = decodeCursor(cursor),
  ): void {
    state.cursor = cursor;
    state.position = position;
    this.options.cursorStorage?.setItem(CURSOR_KEY + channel, cursor);
  }

  /** Subscribes made in one go (a dashboard opening, a reconnect) leave together, in as few frames as fit. */
  private sendSubscribe(channel: string, state: ChannelState): void {
    if (this.socket?.readyState !== OPEN) return; // the open resubscribes every channel
    this.pendingSubscribes.set(channel, state.cursor);
    if (this.pendingSubscribes.size === 1) queueMicrotask(() => this.flushSubscribes());
  }

  private flushSubscribes(): void {
    const entries = [...this.pendingSubscribes].map(([channel, cursor]) =>
      cursor ? { channel, cursor } : channel,
    );
    this.pendingSubscribes.clear();
    for (const batch of subscribeBatches(entries, this.limits)) this.send(batch);
  }

  /**
   * Sends through a token bucket at half the gateway's message rate, so that no burst of the application's
   * (80 subscribes, an ack per channel) is answered with RATE_LIMITED.
   */
  private send(message: Record<string, unknown>): void {
    if (this.socket?.readyState !== OPEN) return;
    this.outbox.push(JSON.stringify(message));
    this.drainOutbox();
  }

  private drainOutbox(): void {
    const rate = Math.max(1, this.limits.maxMessagesPerSecond / 2);
    const now = Date.now();
    this.paceTokens = Math.min(PACE_BURST, this.paceTokens + ((now - this.paceTokensAt) * rate) / 1000);
    this.paceTokensAt = now;
    while (this.outbox.length > 0 && this.paceTokens >= 1 && this.socket?.readyState === OPEN) {
      this.socket.send(this.outbox.shift()!);
      this.paceTokens--;
    }
    if (this.outbox.length > 0 && !this.paceTimer) {
      this.paceTimer = setTimeout(() => {
        this.paceTimer = null;
        this.drainOutbox();
      }, 1000 / rate);
    }
  }

  private startTimers(): void {
    const heartbeatMs = this.options.heartbeatMs ?? 20_000;
    if (heartbeatMs > 0) {
      this.heartbeatTimer = setInterval(() => {
        if (Date.now() - this.lastFrameAt > heartbeatMs * 2) {
          this.socket?.close(4000, 'heartbeat lost');
          if (this.socket) this.onClose(this.socket, 4000);
          return;
        }
        this.send({ type: 'ping' });
      }, heartbeatMs);
    }
    if (this.sessionId) {
      this.ackTimer = setInterval(() => this.acknowledge(), this.options.ackIntervalMs ?? 1_000);
    }
  }

  /** Asks for a fresh token ahead of `expiresAt` and sends it on the live connection. */
  private scheduleRefresh(expiresAt: string | null): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    this.expiresAt = expiresAt === null ? null : Date.parse(expiresAt);
    if (this.expiresAt === null || typeof this.options.token !== 'function') return;
    const remaining = this.expiresAt - Date.now();
    const ahead = Math.min(this.options.refreshAheadMs ?? 30_000, remaining / 2);
    this.refreshTimer = setTimeout(() => void this.refresh(), Math.max(0, remaining - ahead));
  }

  /** A refused refresh is tried again halfway to the expiry, while there is time; else the 4401 reconnects. */
  private retryRefresh(): void {
    if (this.connection === 'closed') return; // closed while the token was fetched: nothing to refresh
    if (this.expiresAt === null || typeof this.options.token !== 'function') return;
    const remaining = this.expiresAt - Date.now();
    if (remaining < 1_000) return;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), remaining / 2);
  }

  private async refresh(): Promise<void> {
    this.refreshTimer = null;
    const getToken = this.options.token;
    if (typeof getToken !== 'function') return;
    let token: string | null;
    try {
      token = await getToken();
    } catch {
      token = null;
    }
    if (token) this.send({ type: 'refresh', token, requestId: `refresh-${++this.refreshes}` });
    else this.retryRefresh();
  }

  private acknowledge(): void {
    // Acks still waiting for their turn are not piled on: the next round sends the then-latest cursors.
    if (this.outbox.length > 0) return;
    for (const [channel, state] of this.channels) {
      if (state.cursor && state.cursor !== state.ackedCursor) {
        this.send({ type: 'ack', channel, cursor: state.cursor });
        state.ackedCursor = state.cursor;
      }
    }
  }

  private clearTimers(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.ackTimer) clearInterval(this.ackTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.paceTimer) clearTimeout(this.paceTimer);
    this.heartbeatTimer = this.ackTimer = this.reconnectTimer = this.refreshTimer = this.paceTimer = null;
    // What was not sent is resent by the next open (every channel is resubscribed from its cursor).
    this.outbox = [];
    this.pendingSubscribes.clear();
  }

  /** Applies a transition of connection-state.ts; false when `input` does not apply in the current state. */
  private move(input: ConnectionInput): boolean {
    const next = nextConnectionState(this.connection, input);
    if (next === null) return false;
    if (next !== this.connection) {
      this.connection = next;
      this.emitter.emit('state', next);
    }
    return true;
  }
}

function resolveSessionId(session: NonNullable<InventoryClientOptions['session']>): string {
  if (session.id) return session.id;
  const key = session.storageKey ?? SESSION_KEY;
  const stored = session.storage?.getItem(key);
  if (stored) return stored;
  const id = `s-${globalThis.crypto.randomUUID()}`;
  session.storage?.setItem(key, id);
  return id;
}

type SubscribeEntry = string | { channel: string; cursor: string };

/**
 * Subscribe messages for these channels: one channel alone in the original form (any gateway understands it),
 * more as `channels` lists that each fit the gateway's frame size and channel limit.
 */
export function subscribeBatches(
  entries: SubscribeEntry[],
  limits: { maxFrameBytes: number; maxChannelsPerConnection: number },
): Array<Record<string, unknown>> {
  if (entries.length === 1) {
    const entry = entries[0]!;
    return [
      typeof entry === 'string' ? { type: 'subscribe', channel: entry } : { type: 'subscribe', ...entry },
    ];
  }
  const budget = limits.maxFrameBytes - 64;
  const batches: Array<Record<string, unknown>> = [];
  let batch: SubscribeEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = JSON.stringify(entry).length + 1;
    if (batch.length > 0 && (bytes + size > budget || batch.length >= limits.maxChannelsPerConnection)) {
      batches.push({ type: 'subscribe', channels: batch });
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length > 0) batches.push({ type: 'subscribe', channels: batch });
  return batches;
}
