import type { Logger } from 'pino';
import { HeldMessages, type LiveRejection } from '../domain/live-sequence.js';
import type { RecentWindow, WindowEntry } from '../domain/recent-window.js';
import type {
  GatewayMetrics,
  LiveFeed,
  LiveMessage,
  RawMessage,
  StreamLookup,
  StreamReader,
  StreamStateSource,
} from './ports.js';
import type { Semaphore } from './semaphore.js';

export interface LiveRouterContext {
  feed: LiveFeed;
  reader: StreamReader;
  lookup: StreamLookup;
  stream: StreamStateSource;
  /** Shared with client replays: bounds the stream reads in flight. */
  readSlots: Semaphore;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Keeps the most recent routed messages for resumes (none: every resume reads the stream). */
  recent?: RecentWindow;
}

/** Where routed messages go: the hubs of the channels a message belongs to. */
export interface LiveRoutes {
  route(message: RawMessage): void;
  /** False when no channel is live in the process: a gap then needs no reading. */
  readonly any: boolean;
}

/** Live messages held while they are confirmed or a gap is filled; beyond this they are re-read from the stream. */
const HELD_MAX_BYTES = 8 * 1024 * 1024;
const RETRY_MS = 1_000;
/** Live bytes routed before the sockets get a turn (about what one read of the NATS socket used to bring). */
const SLICE_BYTES = 32 * 1024;

/**
 * The process's one view of the live feed: a single core subscription on `live.>`, whose messages are believed
 * only in stream order and once the stream confirms them, then routed to the channels they belong to.
 *
 * RePublish is at most once, and anyone allowed to publish on `live.>` can write to it. The stream numbers its
 * messages one after another, so the feed is contiguous and `position` — the sequence up to which everything
 * was routed — says exactly what is missing. Every live message is held until a look at the stream's end, sent
 * after it arrived, has reached it (one look covers every message that came meanwhile): a sequence the stream
 * never had is checked against the stream's own message there and dropped. A hole before a held message (lost on
 * its way), a message without the stream's headers, a NATS reconnect, a stream leader change, or an audit that
 * finds the stream ahead of `position` makes it read the stream from `position`. Duplicates are dropped by
 * sequence. All of it happens in `settle`, one round at a time.
 */
export class LiveRouter {
  /** The stream sequence up to which every message was routed. */
  position = 0;
  readonly ready: Promise<void>;
  private held: HeldMessages<LiveMessage> | null;
  /** Something may have been lost: the next round reads the stream from `position`. */
  private gapSuspected = false;
  private settling: Promise<void> | null = null;
  private started = false;
  private closed = false;
  private unsubscribe: (() => void) | null = null;
  private auditTimer: NodeJS.Timeout | null = null;
  private auditing = false;
  /** The stream's end at the last audit. */
  private auditedEnd = 0;

  constructor(
    private readonly ctx: LiveRouterContext,
    private readonly routes: LiveRoutes,
  ) {
    // Held until the starting position is known.
    this.held = this.newHeld();
    this.ready = this.start();
  }

  private async start(): Promise<void> {
    this.unsubscribe = this.ctx.feed.subscribe(
      '>',
      (message) => this.onMessage(message),
      (reason) => this.onRejected(reason),
    );
    // Interest first, then the stream's end: every message after that end reaches the subscription.
    await this.ctx.feed.flush();
    this.position = (await this.ctx.stream.current()).lastSeq;
    // Everything after the starting position is routed from here on.
    this.ctx.recent?.restart(this.position);
    this.started = true;
    void this.settle();
  }

  private onMessage(message: LiveMessage): void {
    if (this.closed || (!this.held && message.seq <= this.position)) return;
    this.hold(message);
    void this.settle();
  }

  /** A message on a live subject without the stream's headers: never routed; the stream is read instead. */
  private onRejected(reason: LiveRejection): void {
    this.ctx.metrics.liveRejected.inc({ reason });
    void this.recover();
  }

  private hold(message: LiveMessage): void {
    this.held ??= this.newHeld();
    // Overflowing forgets the held messages: the stream still has them.
    if (!this.held.push(message)) this.gapSuspected = true;
  }

  private newHeld(): HeldMessages<LiveMessage> {
    return new HeldMessages<LiveMessage>(HELD_MAX_BYTES, (message) => message.data.length);
  }

  private routeNext(message: RawMessage): void {
    if (message.seq <= this.position) return;
    this.ctx.recent?.append(this.position, message);
    this.position = message.seq;
    this.routes.route(message);
  }

  /** The NATS connection dropped: live messages may be lost, so hold the ones that come until the gap is filled. */
  suspend(): void {
    if (this.closed || !this.started) return;
    this.held ??= this.newHeld();
    this.gapSuspected = true;
  }

  /** Reads what may have been lost since `position` from the stream, then releases the held live messages. */
  recover(): Promise<void> {
    if (this.closed || !this.started) return Promise.resolve();
    this.suspend();
    return this.settle();
  }

  /**
   * Compares `position` with the stream's end every `intervalMs`: the last message before a quiet spell, lost on
   * its way, has no later one to reveal the hole. The end seen at one audit is compared at the next, so that the
   * messages up to it have had a whole interval to arrive (the stream republishes asynchronously, so an answer
   * about its end may overtake them).
   */
  startAudits(intervalMs: number): void {
    this.auditTimer ??= setInterval(() => void this.audit(), intervalMs);
    this.auditTimer.unref();
  }

  private async audit(): Promise<void> {
    if (this.auditing || !this.started || this.closed) return;
    this.auditing = true;
    try {
      const seen = this.auditedEnd;
      if (seen > this.position && !this.held) {
        this.ctx.metrics.liveGaps.inc({ found_by: 'audit' });
        await this.recover();
      }
      this.auditedEnd = (await this.ctx.stream.current()).lastSeq;
    } catch (error) {
      this.ctx.logger.warn({ err: error }, 'auditing the live feed against the stream failed');
    } finally {
      this.auditing = false;
    }
  }

  private settle(): Promise<void> {
    if (!this.started) return Promise.resolve();
    this.settling ??= this.settleHeld().then((failed) => {
      this.settling = null;
      if (failed) setTimeout(() => void this.settle(), RETRY_MS).unref();
      // Held after the last round had finished: one more.
      else if (this.held && !this.closed) void this.settle();
    });
    return this.settling;
  }

  /** Rounds until nothing is held; true when a round failed (NATS unavailable) and must be retried. */
  private async settleHeld(): Promise<boolean> {
    try {
      while (this.held && !this.closed) await this.settleRound(this.held);
      return false;
    } catch (error) {
      this.ctx.logger.warn({ err: error }, 'checking the live feed against the stream failed; retrying');
      this.gapSuspected = true;
      return true;
    }
  }

  /**
   * One round: look at the stream's end (reading the stream up to it first if something was lost), then release
   * the held messages the look confirms.
   */
  private async settleRound(held: HeldMessages<LiveMessage>): Promise<void> {
    const read = this.gapSuspected;
    this.gapSuspected = false;
    const lookedAfter = held.arrivals;
    if (read) await this.ctx.feed.flush();
    let end = (await this.ctx.stream.current()).lastSeq;
    if (read) await this.fillFromStream(end);
    for (;;) {
      if (this.closed || this.gapSuspected) return;
      const { deliver, stop } = held.release(this.position, end, lookedAfter);
      await this.routeInSlices(deliver);
      if (this.closed) return;
      switch (stop.kind) {
        case 'done':
          // Messages that came while the released ones were routed wait for the next round.
          if (held.length === 0 && this.held === held) this.held = null;
          return;
        case 'look':
          return;
        case 'gap':
          this.ctx.metrics.liveGaps.inc({ found_by: 'sequence' });
          this.gapSuspected = true;
          return;
        case 'suspect':
          if (!(await this.isStored(stop.message))) {
            held.remove(stop.message);
            continue;
          }
          // The look was stale (another server answered first): the stream has it.
          end = Math.max(end, stop.message.seq);
      }
    }
  }

  /**
   * Routes released messages a slice at a time, letting the sockets write in between: what one look confirms can
   * be a long burst, and in one go it would fill the send queues of clients that read as fast as they can.
   */
  private async routeInSlices(messages: RawMessage[]): Promise<void> {
    let bytes = 0;
    for (const message of messages) {
      if (this.closed) return;
      this.routeNext(message);
      bytes += message.data.length;
      if (bytes >= SLICE_BYTES) {
        bytes = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Reads `(position, end]` from the stream and routes it: what the live feed lost. */
  private async fillFromStream(end: number): Promise<void> {
    if (this.routes.any && end > this.position) {
      const release = await this.ctx.readSlots.acquire();
      try {
        await this.ctx.reader.read({
          filters: ['>'],
          fromSeq: this.position + 1,
          toSeq: end,
          onMessage: (message) => this.routeNext(message),
          stopped: () => this.closed,
        });
      } finally {
        release();
      }
    }
    // Everything up to `end` is out (with no live channel, nobody is owed it).
    if (!this.closed) this.position = Math.max(this.position, end);
    this.ctx.metrics.backfills.inc();
  }

  /**
   * A held message beyond the stream's end as looked at after it arrived: only the stream's own message at that
   * sequence, on the same subject, makes it real, and its stored body replaces the one that came live.
   */
  private async isStored(message: LiveMessage): Promise<boolean> {
    const stored = await this.ctx.lookup.messageAt(message.seq);
    if (stored && stored.subject === message.subject) {
      message.data = stored.data;
      return true;
    }
    this.ctx.metrics.liveRejected.inc({ reason: 'out_of_range' });
    this.ctx.logger.warn(
      { seq: message.seq, subject: message.subject },
      'live message rejected: the stream has no such message',
    );
    return false;
  }

  /**
   * The routed messages after `seq`, in stream order, when the recent window holds every one of them up to
   * `position`; null otherwise. Everything returned was routed already, and everything after `position` is
   * routed later: a hub member attached in the same tick gets exactly the rest.
   */
  recentAfter(seq: number): WindowEntry[] | null {
    return this.ctx.recent?.after(seq, this.position) ?? null;
  }

  /** The stream was recreated: its sequences start again, so every position held is void. */
  rebase(position: number): void {
    this.position = position;
    this.ctx.recent?.restart(position);
    this.auditedEnd = 0;
    if (this.held) this.held = this.newHeld();
    this.gapSuspected = false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = null;
    if (this.auditTimer) clearInterval(this.auditTimer);
    this.auditTimer = null;
    this.unsubscribe?.();
  }
}
