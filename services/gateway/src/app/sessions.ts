import { encodeCursor, WS_CLOSE } from '@inv/contracts';
import type { Logger } from 'pino';
import { sessionPrefix, userKey } from '../domain/session-keys.js';
import type { Connection } from './connection.js';
import type { GatewayMetrics, SessionClaim, SessionRepository, StreamStateSource } from './ports.js';

/**
 * Durable sessions: per (session, channel) the position a client has reached, kept in the KV bucket so that a
 * client that lost its local state (a page reload) resumes where it was, on any gateway instance. The position
 * is what the client acknowledged if it acknowledges, else the last event sent. Writes are coalesced: one
 * sweep every `flushMs` writes the positions that moved, and a connection's positions are written when it
 * closes; a channel given its position (`subscribed`) is written at once, so the session never lacks one. A
 * position written late only means a few events are delivered again, never a gap.
 *
 * One writer per session: a connection binding a session takes it over. Another connection of this process
 * holding it writes its positions, stops, and is closed with 4409 before the newcomer reads them; one on another
 * instance is told by the watch on the owner keys as soon as the newcomer's claim lands, and is closed with
 * 4409 without writing again. Should that notice not come (this process was cut from NATS), the owner key is
 * also checked before every write. A write of the older one already in flight when the newcomer claimed the
 * session can land after the newcomer read the positions; the newcomer's first sweep writes all of its own
 * positions, so that stale one does not stay.
 */
export class SessionTracker {
  /** The connection of this process holding each session (by prefix): at most one, binds take over. */
  private readonly holders = new Map<string, Connection>();
  /** Channels each connection left on purpose: a write begun before it left must not store them again. */
  private readonly left = new WeakMap<Connection, Set<string>>();
  /** Connections whose session a newer connection took: they write nothing more. */
  private readonly fenced = new WeakSet<Connection>();
  /** The bind of each session now under way, which the next bind of the same session waits for. */
  private readonly binding = new Map<string, Promise<Map<string, string> | null>>();
  private timer: NodeJS.Timeout | null = null;
  private stopWatching: (() => void) | null = null;
  /** Holders with a channel just given its position, written together once the current work is done. */
  private readonly positionedSoon = new Set<Connection>();
  private positionedWrite: NodeJS.Immediate | null = null;

  constructor(
    private readonly repository: SessionRepository,
    private readonly stream: StreamStateSource,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly flushMs: number,
    private readonly maxPerUser = Infinity,
  ) {}

  async start(): Promise<void> {
    this.timer ??= setInterval(() => void this.flushAll(), this.flushMs);
    this.timer.unref();
    this.stopWatching ??= await this.repository.watch({
      claimed: (prefix, claim) => this.claimed(prefix, claim),
      recreated: () => void this.restore(),
    });
  }

  /** A claim landed: a holder here whose bind began before it lost the session. */
  private claimed(prefix: string, claim: SessionClaim): void {
    const holder = this.holders.get(prefix);
    // Earlier claims can still be on their way after a newer bind here: `since` tells which is newer.
    if (holder && holder.id !== claim.owner && holder.session!.since < claim.since) this.fence(holder);
  }

  /**
   * The bucket was lost and made anew, without the positions and claims it held. Each holder here claims its
   * session again, as of its bind (a newer connection elsewhere still wins), and writes every position it has:
   * until then a reload elsewhere would find none and start at the live end.
   */
  private async restore(): Promise<void> {
    this.logger.warn('the durable sessions bucket was made anew; writing the sessions held here again');
    await Promise.all(
      [...this.holders.values()].map(async (holder) => {
        const session = holder.session!;
        for (const subscription of holder.subs.values()) subscription.stored = -1;
        try {
          if (!(await this.repository.claim(session.prefix, holder.id, session.since))) {
            if (this.holders.get(session.prefix) === holder) this.fence(holder);
            return;
          }
        } catch (error) {
          // Its positions are written at the next sweep all the same; the owner check lets them through.
          this.logger.warn({ err: error }, 'could not claim a durable session again in the new bucket');
        }
        await this.flush(holder);
      }),
    );
  }

  /**
   * Binds a connection to a session, taking it over from any connection holding it, and returns the session's
   * stored positions (channel → cursor); null when the user already holds the maximum of other sessions (the
   * connection then goes on without one).
   */
  async bind(connection: Connection, sessionId: string): Promise<Map<string, string> | null> {
    const prefix = sessionPrefix(connection.user, sessionId);
    // Binds of one session run one after the other: the per-user count makes a bind slow (a KV key listing), and
    // a newer connection's bind overtaking an older one's would claim first, so the older would own the session.
    // Which of two connections is the newer is decided by when their binds began, not by when their claims land.
    const since = Date.now();
    const previous = this.binding.get(prefix) ?? Promise.resolve(null);
    const current = previous
      .catch(() => null)
      .then(() => this.bindInTurn(connection, sessionId, prefix, since));
    this.binding.set(prefix, current);
    try {
      return await current;
    } finally {
      if (this.binding.get(prefix) === current) this.binding.delete(prefix);
    }
  }

  private async bindInTurn(
    connection: Connection,
    sessionId: string,
    prefix: string,
    since: number,
  ): Promise<Map<string, string> | null> {
    if (Number.isFinite(this.maxPerUser)) {
      const held = await this.repository.sessionsOf(userKey(connection.user));
      if (!held.has(sessionId) && held.size >= this.maxPerUser) return null;
    }
    // Closed while waiting (its bind took too long): it must not take the session from anyone.
    if (connection.closing) return new Map();
    connection.session = { id: sessionId, prefix, since };
    const holder = this.holders.get(prefix);
    if (holder && holder !== connection) await this.takeOver(holder);
    // Claimed before any sweep can see this connection, or it would find the session someone else's.
    if (!(await this.repository.claim(prefix, connection.id, since))) {
      // A connection on another instance whose bind began later holds it: this one is the older.
      this.fence(connection);
      return new Map();
    }
    // A connection closed before its claim landed never holds the session: as the holder it would write the
    // positions it reached without the stored ones over those, and the session would skip what lay between.
    if (connection.closing) return new Map();
    this.holders.set(prefix, connection);
    return this.repository.load(prefix);
  }

  /** The holder's positions are written, then it stops writing and is told why it is closed. */
  private async takeOver(holder: Connection): Promise<void> {
    this.unbind(holder);
    await this.flush(holder).catch(() => undefined);
    this.fence(holder);
  }

  private fence(connection: Connection): void {
    this.fenced.add(connection);
    this.unbind(connection);
    this.metrics.sessionTakeovers.inc();
    connection.close(WS_CLOSE.sessionTakenOver, 'a newer connection took over this durable session');
  }

  /**
   * A channel of the connection was given its position: it is written now rather than at the next sweep. A channel
   * the session never stored has no position at all until then, and a reload reaching another instance while the
   * old connection lingers here (nothing closed, so nothing written) would start it at the live end: a gap.
   */
  positioned(connection: Connection, channel: string): void {
    // Subscribed again after leaving it: its positions are the session's to keep again.
    this.left.get(connection)?.delete(channel);
    const prefix = connection.session?.prefix;
    // Only a holder writes: a connection still binding has not claimed the session, and its owner check would fail.
    if (prefix === undefined || this.holders.get(prefix) !== connection) return;
    this.positionedSoon.add(connection);
    this.positionedWrite ??= setImmediate(() => {
      this.positionedWrite = null;
      const connections = [...this.positionedSoon];
      this.positionedSoon.clear();
      for (const holder of connections) void this.flush(holder);
    });
  }

  /** The client left a channel on purpose: a later resume of the session must not bring it back. */
  forget(connection: Connection, channel: string): void {
    if (!connection.session) return;
    const left = this.left.get(connection) ?? new Set<string>();
    this.left.set(connection, left.add(channel));
    this.repository.remove(connection.session.prefix, channel).catch((error: unknown) => {
      this.logger.warn({ err: error, channel }, 'could not remove a channel from a durable session');
    });
  }

  /** The connection is closing: write its final positions now. */
  release(connection: Connection): Promise<void> {
    if (!this.unbind(connection)) return Promise.resolve();
    return this.flush(connection);
  }

  /** Forgets the connection as its session's holder here; false when it was not the holder. */
  private unbind(connection: Connection): boolean {
    const prefix = connection.session?.prefix;
    if (prefix === undefined || this.holders.get(prefix) !== connection) return false;
    this.holders.delete(prefix);
    return true;
  }

  async flushAll(): Promise<void> {
    await Promise.all([...this.holders.values()].map((connection) => this.flush(connection)));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.positionedWrite) clearImmediate(this.positionedWrite);
    this.positionedWrite = null;
    this.positionedSoon.clear();
    this.stopWatching?.();
    this.stopWatching = null;
    await this.flushAll();
  }

  private async flush(connection: Connection): Promise<void> {
    const session = connection.session;
    if (!session || this.fenced.has(connection)) return;
    const moved = [...connection.subs.values()].filter(
      (subscription) =>
        !subscription.implicit &&
        subscription.positioned &&
        (connection.usesAcks ? subscription.acked : subscription.position) !== subscription.stored,
    );
    if (moved.length === 0) return;
    // Another connection (on any instance) may have taken the session since the last write.
    let owner: string | null;
    try {
      owner = await this.repository.owner(session.prefix);
    } catch (error) {
      this.metrics.sessionWriteFailures.inc();
      this.logger.warn(
        { err: error },
        'could not check who holds a durable session; writing at the next sweep',
      );
      return;
    }
    if (owner !== null && owner !== connection.id) {
      if (!this.fenced.has(connection)) this.fence(connection);
      return;
    }
    const writes: Promise<void>[] = [];
    const left = this.left.get(connection);
    for (const subscription of moved) {
      // Left while the owner was looked up: its key is being removed, and this write would bring it back.
      if (subscription.ended && left?.has(subscription.name)) continue;
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
