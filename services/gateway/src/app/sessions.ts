import { encodeCursor } from '@inv/contracts';
import type { Logger } from 'pino';
import { sessionPrefix, userKey } from '../domain/session-keys.js';
import type { GatewayMetrics } from '../infra/metrics.js';
import type { Connection } from './connection.js';
import type { SessionRepository, StreamStateSource } from './ports.js';

/**
 * Durable sessions: per (session, channel) the position a client has reached, kept in the KV bucket so that a
 * client that lost its local state (a page reload) resumes where it was, on any gateway instance. The position
 * is what the client acknowledged if it acknowledges, else the last event sent. Writes are coalesced: one
 * sweep every `flushMs` writes the positions that moved, and a connection's positions are written when it
 * closes. A position written late only means a few events are delivered again, never a gap.
 */
export class SessionTracker {
  private readonly bound = new Set<Connection>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repository: SessionRepository,
    private readonly stream: StreamStateSource,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly flushMs: number,
    private readonly maxPerUser = Infinity,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flushAll(), this.flushMs);
    this.timer.unref();
  }

  /**
   * Binds a connection to a session and returns the session's stored positions (channel → cursor); null when
   * the user already holds the maximum of other sessions (the connection then goes on without one).
   */
  async bind(connection: Connection, sessionId: string): Promise<Map<string, string> | null> {
    if (Number.isFinite(this.maxPerUser)) {
      const held = await this.repository.sessionsOf(userKey(connection.user));
      if (!held.has(sessionId) && held.size >= this.maxPerUser) return null;
    }
    const prefix = sessionPrefix(connection.user, sessionId);
    connection.session = { id: sessionId, prefix };
    this.bound.add(connection);
    return this.repository.load(prefix);
  }

  /** The client left a channel on purpose: a later resume of the session must not bring it back. */
  forget(connection: Connection, channel: string): void {
    if (!connection.session) return;
    this.repository.remove(connection.session.prefix, channel).catch((error: unknown) => {
      this.logger.warn({ err: error, channel }, 'could not remove a channel from a durable session');
    });
  }

  /** The connection is closing: write its final positions now. */
  release(connection: Connection): Promise<void> {
    if (!this.bound.delete(connection)) return Promise.resolve();
    return this.flush(connection);
  }

  async flushAll(): Promise<void> {
    await Promise.all([...this.bound].map((connection) => this.flush(connection)));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flushAll();
  }

  private async flush(connection: Connection): Promise<void> {
    const session = connection.session;
    if (!session) return;
    const writes: Promise<void>[] = [];
    for (const subscription of connection.subs.values()) {
      if (subscription.implicit || !subscription.positioned) continue;
      const position = connection.usesAcks ? subscription.acked : subscription.position;
      if (position === subscription.stored) continue;
      const previous = subscription.stored;
      subscription.stored = position;
      const cursor = encodeCursor({ seq: position, epoch: this.stream.epoch });
      writes.push(
        this.repository.save(session.prefix, subscription.name, cursor).catch((error: unknown) => {
          // Try again at the next sweep.
          if (subscription.stored === position) subscription.stored = previous;
          this.metrics.sessionWriteFailures.inc();
          this.logger.warn({ err: error, channel: subscription.name }, 'could not store a session position');
        }),
      );
    }
    await Promise.all(writes);
  }
}
