import { type Channel, type CursorPosition, encodeCursor, type ResetReason, WS_CLOSE } from '@inv/contracts';
import type { Logger } from 'pino';
import { canSeeEvent, refuseSubscribe } from '../domain/access.js';
import { resetReasonFor, type StreamState } from '../domain/cursor-check.js';
import { eventFrame } from '../domain/frames.js';
import { eventOfEntry, frameOfEntry, type WindowEntry } from '../domain/recent-window.js';
import { decodeStoredEvent } from '../domain/stored-event.js';
import { visibleFilters } from '../domain/visible-filters.js';
import { ClientChannel } from './client-channel.js';
import type { Connection } from './connection.js';
import type { ChannelHub, HubRegistry } from './hub.js';
import type { GatewayMetrics, LastMatching, StreamReader, StreamStateSource } from './ports.js';
import { LendableSlot, type Semaphore } from './semaphore.js';
import { SharedReplays } from './shared-replay.js';

/** A client that reads nothing for this long during a replay is closed as a slow consumer. */
const REPLAY_STALL_MS = 10_000;
/** How long a look at the stream's bounds serves the resumes the recent-events window answers. */
const LOOK_REUSE_MS = 200;

export interface SubscribeRequest {
  name: string;
  channel: Channel;
  cursor: CursorPosition | null;
  requestId?: string;
  implicit?: boolean;
}

export interface SubscriptionsContext {
  hubs: HubRegistry;
  reader: StreamReader;
  stream: StreamStateSource;
  /** Bounds the replays in flight; a client waiting for a slot holds nothing back yet. */
  readSlots: Semaphore;
  /** The recent-events window (the live router): resumes it covers are served from memory. */
  recent?: { recentAfter(seq: number): WindowEntry[] | null };
  /** Finds the newest event a caller may see, for cursors that reveal nothing else. */
  lastMatching?: LastMatching;
  /** Live channels this process serves at most; a new one beyond is refused, existing ones go on. */
  maxLiveChannels?: number;
  metrics: GatewayMetrics;
  logger: Logger;
  /** A client unsubscribed from a channel on purpose (its durable session forgets it). */
  onUnsubscribed?: (connection: Connection, name: string) => void;
  /** A channel was given its position and the client told so (its durable session stores it at once). */
  onPositioned?: (connection: Connection, name: string) => void;
}

/**
 * Subscribing, resuming and unsubscribing the channels of a connection.
 *
 * Without a cursor the client joins the channel's hub and gets the hub's position as its cursor. With a cursor
 * it joins in catch-up mode (live frames held back), the stream is read from the cursor to its end as seen
 * after joining, the held frames past that end follow, then a `live` frame: no gap and no duplicate at the
 * hand-over, on any gateway instance, because every position is a stream sequence.
 */
export class Subscriptions {
  private readonly shared: SharedReplays;
  private reusedLook: { at: number; state: Promise<StreamState> } | null = null;

  constructor(private readonly ctx: SubscriptionsContext) {
    this.shared = new SharedReplays({ ...ctx, lookAtStream: (hub) => this.lookAtStream(hub) });
  }

  subscribe(connection: Connection, request: SubscribeRequest): void {
    const refusal = refuseSubscribe(connection.endpoint, connection.scope, request.channel);
    if (refusal) {
      connection.sendError({ ...refusal, channel: request.name, requestId: request.requestId });
      return;
    }
    const existing = connection.subs.get(request.name);
    if (existing && !request.cursor) {
      // Already subscribed (by default or from a durable session): keep it and say where it stands.
      if (!request.implicit) existing.implicit = false;
      this.dropImplicit(connection, request.name);
      if (existing.positioned) this.confirm(existing, request.requestId);
      return;
    }
    if (!existing && !request.implicit && this.explicitCount(connection) >= connection.limits.maxChannels) {
      connection.sendError({
        code: 'TOO_MANY_CHANNELS',
        message: `at most ${connection.limits.maxChannels} channels per connection`,
        channel: request.name,
        requestId: request.requestId,
      });
      return;
    }
    if (!this.roomForChannel(request.name)) {
      connection.sendError({
        code: 'LIVE_CHANNEL_LIMIT',
        message: `this gateway instance serves its maximum of ${this.ctx.maxLiveChannels} live channels; try again later`,
        channel: request.name,
        requestId: request.requestId,
      });
      return;
    }
    if (!request.implicit) this.dropImplicit(connection, request.name);
    // Take the hub before leaving the old subscription, so that a resubscription does not restart it.
    const hub = this.ctx.hubs.acquire(request.name, request.channel);
    if (existing) this.cancel(existing);

    const subscription = new ClientChannel(
      connection,
      request.name,
      request.channel,
      hub,
      !!request.implicit,
    );
    connection.subs.set(request.name, subscription);
    this.ctx.metrics.subscribed(request.channel.kind, 1);
    const started = request.cursor
      ? this.resume(subscription, request.cursor, request.requestId)
      : this.startLive(subscription, request.requestId);
    started.catch((error: unknown) => this.failed(subscription, error));
  }

  unsubscribe(connection: Connection, name: string, requestId?: string): void {
    const subscription = this.subscriptionOf(connection, name, requestId);
    if (!subscription) return;
    this.cancel(subscription);
    this.ctx.onUnsubscribed?.(connection, name);
    connection.sendControl({ type: 'unsubscribed', channel: name, requestId });
  }

  acknowledge(connection: Connection, name: string, cursor: CursorPosition): void {
    const subscription = this.subscriptionOf(connection, name);
    if (!subscription) return;
    if (cursor.epoch !== this.ctx.stream.epoch) {
      connection.sendError({
        code: 'INVALID_CURSOR',
        message: 'the cursor belongs to an older stream',
        channel: name,
      });
      return;
    }
    connection.usesAcks = true;
    subscription.acknowledge(cursor.seq);
  }

  /** Ends a subscription: leaves its hub (closing the hub if it was the last) and stops its replay. */
  cancel(subscription: ClientChannel): void {
    if (!subscription.end()) return;
    const { connection, hub } = subscription;
    if (connection.subs.get(subscription.name) === subscription) connection.subs.delete(subscription.name);
    this.ctx.hubs.release(hub);
    this.ctx.metrics.subscribed(subscription.channel.kind, -1);
  }

  cancelAll(connection: Connection): void {
    for (const subscription of [...connection.subs.values()]) this.cancel(subscription);
  }

  /**
   * The connection's claims changed (a refreshed token): channels they no longer grant are ended, each with an
   * `unsubscribed` frame naming the reason, and a durable session forgets them.
   */
  endForbidden(connection: Connection): void {
    for (const subscription of [...connection.subs.values()]) {
      if (!refuseSubscribe(connection.endpoint, connection.scope, subscription.channel)) continue;
      this.cancel(subscription);
      this.ctx.onUnsubscribed?.(connection, subscription.name);
      connection.sendControl({
        type: 'unsubscribed',
        channel: subscription.name,
        reason: 'FORBIDDEN_CHANNEL',
      });
    }
  }

  /** The client chose a channel itself: its default channels go. */
  dropImplicit(connection: Connection, except: string): void {
    for (const subscription of [...connection.subs.values()]) {
      if (!subscription.implicit || subscription.name === except) continue;
      this.cancel(subscription);
      connection.sendControl({ type: 'unsubscribed', channel: subscription.name });
    }
  }

  /** The connection's subscription to a channel; without one the client is told NOT_SUBSCRIBED. */
  private subscriptionOf(
    connection: Connection,
    name: string,
    requestId?: string,
  ): ClientChannel | undefined {
    const subscription = connection.subs.get(name);
    if (!subscription) {
      connection.sendError({
        code: 'NOT_SUBSCRIBED',
        message: 'not subscribed to this channel',
        channel: name,
        requestId,
      });
    }
    return subscription;
  }

  /** A channel already live is always served; a new one needs room (a lingering idle channel may make it). */
  private roomForChannel(name: string): boolean {
    const { hubs, maxLiveChannels = Infinity } = this.ctx;
    if (hubs.has(name) || hubs.size < maxLiveChannels) return true;
    return hubs.evictIdle() && hubs.size < maxLiveChannels;
  }

  private explicitCount(connection: Connection): number {
    let count = 0;
    for (const subscription of connection.subs.values()) if (!subscription.implicit) count++;
    return count;
  }

  private confirm(subscription: ClientChannel, requestId?: string): void {
    this.sendSubscribed(
      subscription,
      { seq: subscription.position, epoch: this.ctx.stream.epoch },
      requestId,
    );
  }

  /** Tells the client where its subscription starts; from here on the position is the session's to keep. */
  private sendSubscribed(subscription: ClientChannel, cursor: CursorPosition, requestId?: string): void {
    subscription.connection.sendControl({
      type: 'subscribed',
      channel: subscription.name,
      cursor: encodeCursor(cursor),
      requestId,
    });
    this.ctx.onPositioned?.(subscription.connection, subscription.name);
  }

  private async startLive(subscription: ClientChannel, requestId?: string): Promise<void> {
    const { hub } = subscription;
    await hub.ready;
    if (subscription.ended) return;
    const visible = visibleFilters(subscription.channel, subscription.connection.scope);
    if (visible && this.ctx.lastMatching) return this.startLiveConfined(subscription, visible, requestId);
    subscription.joinLive(hub.position);
    this.confirm(subscription, requestId);
  }

  /**
   * The hub's position is the stream's: given to a caller that sees only some warehouses, it would tell how much
   * happened elsewhere. Such a caller's cursor is instead the newest event it may see, at or before the position
   * it joins at (resuming from there delivers exactly the same events, as nothing in between is visible to it),
   * or, when a visible event came after that position already, the position just before the first such event.
   * Live frames are held while this is looked up, so that none is lost or sent before `subscribed`.
   */
  private async startLiveConfined(subscription: ClientChannel, filters: string[], requestId?: string) {
    const { hub, connection } = subscription;
    subscription.hold();
    const joinedAt = hub.position;
    const cursor = await this.visibleCursor(filters, joinedAt);
    if (subscription.ended || connection.closing) return;
    if (subscription.droppedUpTo > 0) {
      // Far more live traffic than a lookup's time should bring: start over from the cursor by the stream.
      subscription.unhold();
      return this.resume(subscription, { seq: cursor, epoch: this.ctx.stream.epoch }, requestId);
    }
    subscription.startAt(cursor);
    this.confirm(subscription, requestId);
    this.goLive(subscription, cursor);
  }

  /** Where a caller seeing only `filters` stands when it joins at `joinedAt`, revealing nothing else. */
  private async visibleCursor(filters: string[], joinedAt: number): Promise<number> {
    const last = await this.ctx.lastMatching!(filters);
    if (last === 0) return Math.max(0, (await this.ctx.stream.current()).firstSeq - 1);
    if (last <= joinedAt) return last;
    return (await this.firstMatchingAfter(filters, joinedAt, last)) - 1;
  }

  private async firstMatchingAfter(filters: string[], after: number, atMost: number): Promise<number> {
    let first = atMost;
    await this.ctx.reader.read({
      filters,
      fromSeq: after + 1,
      toSeq: atMost,
      onMessage: (message) => {
        first = Math.min(first, message.seq);
      },
      stopped: () => first < atMost,
    });
    return first;
  }

  private async resume(
    subscription: ClientChannel,
    cursor: CursorPosition,
    requestId?: string,
  ): Promise<void> {
    // The connection's own limit first: a client resuming many channels queues behind itself, not the others.
    const releaseOwn = await subscription.connection.replaySlots.acquire();
    try {
      if (subscription.ended) return;
      // From memory when the window covers the cursor: no stream read, no slot of the process's replays.
      if (await this.resumeFromWindow(subscription, cursor, requestId)) return;
      await this.resumeFromStream(subscription, cursor, requestId);
    } finally {
      releaseOwn();
    }
  }

  /** The events after the cursor come from a stream read shared with the channel's other resumes. */
  private async resumeFromStream(subscription: ClientChannel, cursor: CursorPosition, requestId?: string) {
    const { hub, connection } = subscription;
    await hub.ready;
    if (subscription.ended || connection.closing) return;
    // Join first, then look at the stream's end: every event after that end reaches the held frames.
    subscription.hold();
    const joinedAt = hub.position;
    const stream = await this.lookAtStream(hub);
    if (subscription.ended) return;

    const reason = resetReasonFor(cursor, stream);
    if (reason) return this.resetTo(subscription, reason, joinedAt, stream);

    subscription.startAt(cursor.seq);
    this.sendSubscribed(subscription, cursor, requestId);
    const shared = await this.shared.replay(subscription, stream.lastSeq);
    let { replayed, end } = shared;
    if (shared.solo && !subscription.ended && !connection.closing) {
      // Its socket was congested: it reads on alone, waiting for its socket without holding up the others.
      const more = await this.replayAlone(subscription, subscription.position, shared.end);
      replayed += more.replayed;
      end = more.end;
    }
    if (subscription.ended || connection.closing) return;
    this.goLive(subscription, end);
    connection.sendControl({ type: 'live', channel: subscription.name, replayed });
  }

  /** The cursor cannot be resumed: the client is told where it continues instead, and goes live from there. */
  private async resetTo(
    subscription: ClientChannel,
    reason: ResetReason,
    joinedAt: number,
    stream: StreamState,
  ) {
    const { connection } = subscription;
    this.ctx.metrics.resets.inc({ reason });
    // A caller that sees some warehouses is not told the stream's position here either.
    const visible = visibleFilters(subscription.channel, connection.scope);
    const resetAt =
      visible && this.ctx.lastMatching
        ? await this.inSlot(() => this.visibleCursor(visible, joinedAt))
        : joinedAt;
    if (subscription.ended || connection.closing) return;
    subscription.startAt(resetAt);
    connection.sendControl({
      type: 'reset',
      channel: subscription.name,
      reason,
      cursor: encodeCursor({ seq: resetAt, epoch: stream.epoch }),
    });
    let liveAfter = resetAt;
    if (subscription.droppedUpTo > resetAt) {
      // More live traffic during the lookup than the held frames keep: read it from the stream.
      liveAfter = (await this.replayAlone(subscription, resetAt, stream.lastSeq)).end;
      if (subscription.ended || connection.closing) return;
    }
    this.goLive(subscription, liveAfter);
  }

  /** A lookup of the stream in one of the process's read slots (a storm of them stays bounded). */
  private async inSlot<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.ctx.readSlots.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Replays `(from, end]` for one subscription in a slot of its own. */
  private async replayAlone(subscription: ClientChannel, from: number, end: number) {
    const slot = await LendableSlot.take(this.ctx.readSlots);
    try {
      return await this.replayToEnd(subscription, from, end, slot);
    } finally {
      slot.done();
    }
  }

  /**
   * Serves a resume from the recent-events window; false (having sent and joined nothing) when the window does
   * not hold every event after the cursor, or the cursor must be reset: the stream path then does it as before.
   *
   * Exactness: the window holds every stream message in `(cursor, end]`, `end` being the router's position, and
   * the member joins the hub in the same tick, so the hub offers it exactly the events after `end` (held back
   * while the window's are sent). Each event is checked against the connection's claims when it is sent.
   */
  private async resumeFromWindow(
    subscription: ClientChannel,
    cursor: CursorPosition,
    requestId?: string,
  ): Promise<boolean> {
    const { recent } = this.ctx;
    const { hub, connection } = subscription;
    if (!recent || cursor.epoch !== this.ctx.stream.epoch) return false;
    await hub.ready;
    if (subscription.ended || connection.closing) return true;
    // The stream's bounds, as the stream path checks them: a cursor retention passed is reset all the same.
    const stream = await this.recentLook(hub);
    if (subscription.ended || connection.closing) return true;
    if (resetReasonFor(cursor, stream)) return false;
    const missed = recent.recentAfter(cursor.seq);
    if (!missed) return false;
    const end = missed.at(-1)?.seq ?? cursor.seq;
    subscription.hold();
    subscription.startAt(cursor.seq);
    this.sendSubscribed(subscription, cursor, requestId);
    this.ctx.metrics.windowReplays.inc();
    let replayed = await this.sendFromWindow(subscription, missed);
    if (subscription.ended || connection.closing) return true;
    let liveAfter = end;
    if (subscription.droppedUpTo > end) {
      // More live traffic while sending than the held frames keep: the rest comes from the stream.
      const last = (await this.lookAtStream(hub)).lastSeq;
      const more = await this.replayAlone(subscription, end, last);
      replayed += more.replayed;
      liveAfter = more.end;
      if (subscription.ended || connection.closing) return true;
    }
    this.goLive(subscription, liveAfter);
    connection.sendControl({ type: 'live', channel: subscription.name, replayed });
    return true;
  }

  /** Sends the window's events of the channel the client may see; waits for a congested socket to drain. */
  private async sendFromWindow(subscription: ClientChannel, entries: WindowEntry[]): Promise<number> {
    const { connection, hub } = subscription;
    const epoch = this.ctx.stream.epoch;
    let sent = 0;
    try {
      for (const entry of entries) {
        if (subscription.ended || connection.closing) break;
        if (entry.seq <= subscription.position || !hub.carries(entry)) continue;
        const event = eventOfEntry(entry);
        if (!event) {
          this.ctx.metrics.undecodable.inc();
          continue;
        }
        if (!canSeeEvent(connection.scope, event.warehouses)) continue;
        subscription.caughtUpTo(entry.seq);
        sent++;
        const frame = frameOfEntry(entry, event, hub.channelJson, epoch);
        if (!connection.congested()) connection.send(frame);
        else await connection.sendWhenWritten(frame, REPLAY_STALL_MS);
      }
    } finally {
      this.ctx.metrics.windowReplayedEvents.inc(sent);
      this.ctx.metrics.framesOut.inc(sent);
    }
    return sent;
  }

  /** Replays (from, end], and further while live frames were dropped from the held ones. */
  private async replayToEnd(
    subscription: ClientChannel,
    from: number,
    end: number,
    slot: LendableSlot,
  ): Promise<{ replayed: number; end: number }> {
    const { metrics } = this.ctx;
    metrics.live.replays++;
    let replayed = 0;
    try {
      for (;;) {
        replayed += await this.replay(subscription, from, end, slot);
        if (subscription.ended || subscription.connection.closing) break;
        if (subscription.droppedUpTo <= end) break;
        from = end;
        end = (await this.lookAtStream(subscription.hub)).lastSeq;
      }
    } finally {
      metrics.live.replays--;
      metrics.replayedEvents.inc(replayed);
      metrics.framesOut.inc(replayed);
    }
    return { replayed, end };
  }

  private async replay(
    subscription: ClientChannel,
    from: number,
    end: number,
    slot: LendableSlot,
  ): Promise<number> {
    const { connection, hub } = subscription;
    const epoch = this.ctx.stream.epoch;
    let sent = 0;
    this.ctx.metrics.replayReads.inc();
    await this.ctx.reader.read({
      filters: hub.filters,
      fromSeq: from + 1,
      toSeq: end,
      stopped: () => subscription.ended || connection.closing,
      onMessage: (message) => {
        if (message.seq <= subscription.position) return;
        const event = decodeStoredEvent(message.seq, message.subject, message.data);
        if (!event) {
          this.ctx.metrics.undecodable.inc();
          return;
        }
        if (!canSeeEvent(connection.scope, event.warehouses)) return;
        subscription.caughtUpTo(message.seq);
        sent++;
        const frame = eventFrame(event, hub.channelJson, epoch);
        if (!connection.congested()) {
          connection.send(frame);
          return;
        }
        // Waiting for this client's socket must not hold a slot the other replays need.
        return slot
          .whileReleased(() => connection.sendWhenWritten(frame, REPLAY_STALL_MS))
          .then(() => undefined);
      },
    });
    return sent;
  }

  /**
   * A look at the stream's bounds for a hand-over. A look answered by a server behind the others (one still
   * catching up while the stream elects a leader) can end before what the live feed already routed, and a replay
   * that stopped there would hand over after a stretch nobody sends: the stream holds at least every message
   * the live router confirmed, so the end is never taken below that.
   */
  private async lookAtStream(hub: ChannelHub): Promise<StreamState> {
    const state = await this.ctx.stream.current();
    return { ...state, lastSeq: Math.max(state.lastSeq, hub.confirmedUpTo) };
  }

  /**
   * A look at the stream requested at most `LOOK_REUSE_MS` ago, for resumes the window serves: they need the
   * stream's start only (a cursor the window covers is never ahead: the window ends where the live router
   * confirmed the stream), and a start older by that much only serves from memory events retention just removed.
   * A storm's resumes then cost a look every `LOOK_REUSE_MS`, not one per round trip.
   */
  private async recentLook(hub: ChannelHub): Promise<StreamState> {
    const now = performance.now();
    if (!this.reusedLook || now - this.reusedLook.at > LOOK_REUSE_MS) {
      const look = { at: now, state: this.ctx.stream.current() };
      this.reusedLook = look;
      look.state.catch(() => {
        if (this.reusedLook === look) this.reusedLook = null;
      });
    }
    const state = await this.reusedLook.state;
    return { ...state, lastSeq: Math.max(state.lastSeq, hub.confirmedUpTo) };
  }

  /** Sends the held live frames past `after` and switches the channel to live delivery. */
  private goLive(subscription: ClientChannel, after: number): void {
    this.ctx.metrics.framesOut.inc(subscription.goLive(after));
  }

  /** A subscription could not start (NATS unavailable): tell the client and let it reconnect and resume. */
  private failed(subscription: ClientChannel, error: unknown): void {
    if (subscription.ended || subscription.connection.closing) return;
    this.ctx.logger.warn({ err: error, channel: subscription.name }, 'subscription failed');
    const { connection } = subscription;
    this.cancel(subscription);
    connection.sendError({
      code: 'UNAVAILABLE',
      message: 'the event stream is unavailable; reconnect and resume with your cursors',
      channel: subscription.name,
    });
    connection.close(WS_CLOSE.tryAgainLater, 'event stream unavailable; reconnect and resume');
  }
}
