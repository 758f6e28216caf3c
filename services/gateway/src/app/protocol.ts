import { decodeCursor, isValidId, parseChannel, WS_CLOSE } from '@inv/contracts';
import { withTimeout } from '@inv/platform';
import type { Logger } from 'pino';
import { defaultChannels, refuseSubscribe, scopeOf } from '../domain/access.js';
import { type ParsedClientMessage, parseClientFrame } from '../domain/client-message.js';
import type { Connection } from './connection.js';
import type { ConnectionRegistry } from './connections.js';
import type { Authenticate, GatewayMetrics } from './ports.js';
import type { SessionTracker } from './sessions.js';
import type { Subscriptions } from './subscriptions.js';

/** Messages a client may send while its durable session is being restored; they apply right after. */
const HELD_MAX = 100;
const SESSION_LOAD_TIMEOUT_MS = 5_000;

export interface ProtocolContext {
  subscriptions: Subscriptions;
  sessions: SessionTracker;
  connections: ConnectionRegistry;
  authenticate: Authenticate;
  metrics: GatewayMetrics;
  logger: Logger;
  heartbeatMs: number;
}

/**
 * The conversation with one client, from open to close: welcome, default channels or a durable session's
 * channels, then every frame answered (an error frame for anything wrong; the connection stays open).
 */
export class Protocol {
  constructor(private readonly ctx: ProtocolContext) {}

  /** Why a new connection is refused (connections per user or per address), or null. */
  refuseConnection(user: string, ip: string): string | null {
    return this.ctx.connections.refusal(user, ip);
  }

  /** A connection was accepted; `sessionId` is the `?session=` query parameter if one was given. */
  open(connection: Connection, sessionId: string | undefined): void {
    this.ctx.connections.add(connection);
    if (sessionId !== undefined && isValidId(sessionId)) {
      this.startSession(connection, sessionId, { withDefaults: true });
      return;
    }
    this.welcome(connection);
    if (sessionId !== undefined) {
      connection.sendError({
        code: 'INVALID_SESSION',
        message: 'the session id is not a valid id; continuing without',
      });
    }
    this.subscribeDefaults(connection);
  }

  frame(connection: Connection, data: Buffer, isBinary: boolean): void {
    if (connection.closing) return;
    connection.touch();
    const admission = connection.admit();
    if (admission !== 'ok') {
      connection.sendError({
        code: 'RATE_LIMITED',
        message: `at most ${connection.limits.maxMessagesPerSecond} messages per second; this one was ignored`,
      });
      if (admission === 'flooding') connection.close(WS_CLOSE.policyViolation, 'flooding after RATE_LIMITED');
      return;
    }
    const parsed = parseClientFrame(data, isBinary, connection.limits.maxFrameBytes);
    if (!parsed.ok) {
      connection.sendError(parsed.error);
      return;
    }
    if (connection.held) {
      if (connection.held.length < HELD_MAX) connection.held.push(parsed.message);
      else
        connection.sendError({ code: 'RATE_LIMITED', message: 'too many messages while the session loads' });
      return;
    }
    this.dispatch(connection, parsed.message);
  }

  /** The socket closed: write the session's positions, leave every channel. */
  close(connection: Connection): Promise<void> {
    connection.closing = true;
    const written = this.ctx.sessions.release(connection);
    this.ctx.subscriptions.cancelAll(connection);
    this.ctx.connections.remove(connection);
    return written;
  }

  private dispatch(connection: Connection, message: ParsedClientMessage): void {
    const first = connection.handled === 0;
    connection.handled++;
    const { subscriptions } = this.ctx;
    switch (message.type) {
      case 'ping':
        connection.sendControl({
          type: 'pong',
          requestId: message.requestId,
          time: new Date().toISOString(),
        });
        return;
      case 'subscribe':
        subscriptions.subscribe(connection, message);
        return;
      case 'subscribe-batch':
        for (const entry of message.entries) {
          if (connection.closing) return;
          if (entry.ok) subscriptions.subscribe(connection, { ...entry, requestId: message.requestId });
          else connection.sendError({ ...entry.error, requestId: message.requestId });
        }
        return;
      case 'refresh':
        this.refresh(connection, message.token, message.requestId);
        return;
      case 'unsubscribe':
        subscriptions.unsubscribe(connection, message.name, message.requestId);
        return;
      case 'ack':
        subscriptions.acknowledge(connection, message.name, message.cursor);
        return;
      case 'session':
        if (!first || connection.session) {
          connection.sendError({
            code: 'INVALID_SESSION',
            message: 'a session is bound once, by the first message or the ?session= parameter',
            requestId: message.requestId,
          });
          return;
        }
        this.startSession(connection, message.sessionId, { withDefaults: false });
        return;
    }
  }

  /**
   * Replaces the claims of a live connection with a fresh token's. The token must verify and name the same
   * subject (durable sessions and per-user limits belong to it); otherwise the connection keeps its claims,
   * and is closed when they expire. Channels the new claims no longer grant are ended.
   */
  private refresh(connection: Connection, token: string, requestId?: string): void {
    this.ctx
      .authenticate(token)
      .then((auth) => {
        if (connection.closing) return;
        if (!auth.ok || auth.claims.sub !== connection.user) {
          this.ctx.metrics.refreshes.inc({ outcome: 'refused' });
          connection.sendError({
            code: 'INVALID_TOKEN',
            message: auth.ok
              ? 'the new token is for another subject; the connection keeps its current token'
              : `${auth.reason}; the connection keeps its current token`,
            requestId,
          });
          return;
        }
        this.ctx.metrics.refreshes.inc({ outcome: 'accepted' });
        connection.scope = scopeOf(auth.claims);
        connection.expiresAt = auth.expiresAt;
        this.ctx.subscriptions.endForbidden(connection);
        connection.sendControl({ type: 'refreshed', expiresAt: isoOrNull(auth.expiresAt), requestId });
      })
      .catch((error: unknown) => {
        this.ctx.logger.error({ err: error }, 'refreshing a token failed');
        connection.close(WS_CLOSE.internalError, 'internal error; reconnect and resume');
      });
  }

  private welcome(connection: Connection): void {
    connection.sendControl({
      type: 'welcome',
      connectionId: connection.id,
      sessionId: connection.session?.id ?? null,
      heartbeatMs: this.ctx.heartbeatMs,
      limits: {
        maxFrameBytes: connection.limits.maxFrameBytes,
        maxChannelsPerConnection: connection.limits.maxChannels,
        maxMessagesPerSecond: connection.limits.maxMessagesPerSecond,
      },
      expiresAt: isoOrNull(connection.expiresAt),
      ...(connection.batching ? { batching: true } : {}),
    });
  }

  private startSession(connection: Connection, sessionId: string, options: { withDefaults: boolean }): void {
    this.bindSession(connection, sessionId, options).catch((error: unknown) => {
      this.ctx.logger.error({ err: error }, 'binding a durable session failed');
      connection.close(WS_CLOSE.internalError, 'internal error; reconnect and resume');
    });
  }

  /**
   * Binds a durable session and resubscribes its stored channels from their stored positions, as if the client
   * had subscribed with those cursors. Messages that arrive meanwhile are held and applied after.
   */
  private async bindSession(
    connection: Connection,
    sessionId: string,
    options: { withDefaults: boolean },
  ): Promise<void> {
    connection.held = [];
    let stored: Map<string, string> | null;
    try {
      stored = await withTimeout(
        this.ctx.sessions.bind(connection, sessionId),
        SESSION_LOAD_TIMEOUT_MS,
        'loading a durable session',
      );
    } catch (error) {
      // Going on without the stored positions would start the session's channels at the live end: a reloaded
      // page would skip what it had not seen. The client reconnects (with backoff) and binds again instead.
      this.ctx.logger.warn({ err: error }, 'could not load a durable session; closing with 1013');
      connection.close(WS_CLOSE.tryAgainLater, 'the durable session could not be loaded; reconnect');
      return;
    }
    if (connection.closing) return;
    // The welcome names the session: for `?session=` it is the first frame, for a `session` message the answer.
    this.welcome(connection);
    if (stored === null) {
      connection.sendError({
        code: 'TOO_MANY_SESSIONS',
        message: 'this user holds the maximum of durable sessions; continuing without one',
      });
    }
    const restored = this.restore(connection, stored ?? new Map());
    if (options.withDefaults && restored === 0) this.subscribeDefaults(connection);
    const held = connection.held ?? [];
    connection.held = null;
    for (const message of held) {
      if (connection.closing) return;
      this.dispatch(connection, message);
    }
  }

  private restore(connection: Connection, stored: Map<string, string>): number {
    let restored = 0;
    for (const [name, text] of stored) {
      const channel = parseChannel(name);
      const cursor = decodeCursor(text);
      const usable =
        channel.ok &&
        cursor !== null &&
        restored < connection.limits.maxChannels &&
        !refuseSubscribe(connection.endpoint, connection.scope, channel.channel);
      if (!usable) {
        this.ctx.sessions.forget(connection, name);
        continue;
      }
      this.ctx.subscriptions.subscribe(connection, { name, channel: channel.channel, cursor });
      restored++;
    }
    return restored;
  }

  private subscribeDefaults(connection: Connection): void {
    for (const name of defaultChannels(
      connection.endpoint,
      connection.scope,
      connection.limits.maxChannels,
    )) {
      const channel = parseChannel(name);
      if (channel.ok) {
        this.ctx.subscriptions.subscribe(connection, {
          name,
          channel: channel.channel,
          cursor: null,
          implicit: true,
        });
      }
    }
  }
}

const isoOrNull = (epochMs: number | null): string | null =>
  epochMs === null ? null : new Date(epochMs).toISOString();
