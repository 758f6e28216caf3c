import { type Channel, channelFilters } from '@inv/contracts';
import type { Logger } from 'pino';
import { eventFrame, type Frame } from '../domain/frames.js';
import { SeqBuffer } from '../domain/seq-buffer.js';
import type { RecentEvents, StoredEvent } from '../domain/stored-event.js';
import type { GatewayMetrics } from '../infra/metrics.js';
import type { LiveFeed, RawMessage, StreamReader, StreamStateSource } from './ports.js';
import type { Semaphore } from './semaphore.js';

/** A client's subscription to a channel, as the channel's hub sees it. */
export interface HubMember {
  /** Offers one live event; true when a frame was sent to the client. */
  offer(event: StoredEvent, frame: Frame): boolean;
}

export interface HubContext {
  feed: LiveFeed;
  reader: StreamReader;
  stream: StreamStateSource;
  events: RecentEvents;
  /** Bounds the backfills reading the stream at once (slots of their own, not shared with client replays). */
  readSlots: Semaphore;
  metrics: GatewayMetrics;
  logger: Logger;
}

/** Live messages held while a hub fills a gap from the stream; beyond this they are re-read from the stream. */
const BACKLOG_MAX_BYTES = 8 * 1024 * 1024;
const RECOVERY_RETRY_MS = 1_000;

/**
 * One channel in one gateway process: a core NATS subscription per filter of the channel (on the republished
 * `live.` subjects), shared by every client of the channel. Each event is decoded and turned into a frame once,
 * then offered to every member. `position` is the stream sequence up to which the channel has been fanned out:
 * a client attached now is owed exactly the events after it.
 */
export class ChannelHub {
  readonly filters: readonly string[];
  readonly channelJson: string;
  readonly members = new Set<HubMember>();
  position = 0;
  /** Subscriptions holding this hub (members attach only once the hub is ready). */
  refs = 0;
  closed = false;
  /** Resolves once the live subscriptions are active and `position` is known. */
  readonly ready: Promise<void>;
  private readonly unsubscribes: Array<() => void> = [];
  private backlog: SeqBuffer<RawMessage> | null = null;
  private recovering: Promise<void> | null = null;
  private recoverAgain = false;
  private started = false;

  constructor(
    readonly name: string,
    readonly channel: Channel,
    private readonly ctx: HubContext,
  ) {
    this.filters = channelFilters(channel);
    this.channelJson = JSON.stringify(name);
    this.ready = this.start();
  }

  private async start(): Promise<void> {
    for (const filter of this.filters) {
      this.unsubscribes.push(this.ctx.feed.subscribe(filter, (message) => this.onMessage(message)));
    }
    // Interest first, then the stream's end: every event after that end reaches the subscription.
    await this.ctx.feed.flush();
    const state = await this.ctx.stream.current();
    this.position = Math.max(this.position, state.lastSeq);
    this.started = true;
  }

  attach(member: HubMember): void {
    this.members.add(member);
  }

  detach(member: HubMember): void {
    this.members.delete(member);
  }

  private onMessage(message: RawMessage): void {
    if (this.closed) return;
    if (this.backlog) this.backlog.push(message.seq, message);
    else this.fanOut(message);
  }

  private fanOut(message: RawMessage): void {
    // The subscriptions of one connection receive the republished messages in stream order, so anything at or
    // below the position is a duplicate (a backfill overlapping live traffic).
    if (message.seq <= this.position) return;
    this.position = message.seq;
    if (this.members.size === 0) return;
    const event = this.ctx.events.decode(message.seq, message.subject, message.data);
    if (!event) {
      this.ctx.metrics.undecodable.inc();
      return;
    }
    const frame = eventFrame(event, this.channelJson, this.ctx.stream.epoch);
    let sent = 0;
    for (const member of this.members) if (member.offer(event, frame)) sent++;
    if (sent > 0) {
      this.ctx.metrics.framesOut.inc(sent);
      this.ctx.metrics.deliveryLag.observe(Math.max(0, Date.now() - event.occurredAtMs) / 1000);
    }
  }

  /** The NATS connection dropped: live messages may be lost, so hold the ones that come until the gap is filled. */
  suspend(): void {
    // A hub still starting has no members yet and takes its position after the reconnect.
    if (!this.closed && this.started) this.backlog ??= new SeqBuffer(BACKLOG_MAX_BYTES, (m) => m.data.length);
  }

  /** Fills the gap since `position` from the stream, then releases the held live messages without duplicates. */
  recover(): Promise<void> {
    if (this.closed || !this.started) return Promise.resolve();
    this.suspend();
    if (this.recovering) {
      this.recoverAgain = true;
      return this.recovering;
    }
    this.recovering = this.catchUp().finally(() => {
      this.recovering = null;
    });
    return this.recovering;
  }

  private async catchUp(): Promise<void> {
    const release = await this.ctx.readSlots.acquire();
    try {
      while (this.backlog && !this.closed) {
        this.recoverAgain = false;
        await this.ctx.feed.flush();
        const end = (await this.ctx.stream.current()).lastSeq;
        if (this.members.size === 0) {
          // Nobody to deliver the gap to (a lingering channel): skip it, later subscribers start after it.
          this.position = Math.max(this.position, end);
        } else {
          await this.ctx.reader.read({
            filters: this.filters,
            fromSeq: this.position + 1,
            toSeq: end,
            onMessage: (message) => this.fanOut(message),
            stopped: () => this.closed,
          });
        }
        // Everything up to `end` is out; the held messages cover what came after, unless some were dropped.
        const backlog = this.backlog;
        if (!backlog) break;
        if (!this.recoverAgain && backlog.droppedUpTo <= end) {
          this.backlog = null;
          for (const [, message] of backlog.takeAfter(end)) this.fanOut(message);
        }
      }
      this.ctx.metrics.backfills.inc();
    } catch (error) {
      this.ctx.logger.warn({ err: error, channel: this.name }, 'backfill after reconnect failed; retrying');
      setTimeout(() => void this.recover(), RECOVERY_RETRY_MS).unref();
    } finally {
      release();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backlog = null;
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.members.clear();
  }
}

/**
 * Hubs of this process by channel name: created on first use; when the last subscription leaves, kept for a
 * few seconds (a reconnecting client, or the default `global` of a client about to subscribe elsewhere, would
 * otherwise restart it), then closed. One timer for the process sweeps the idle ones.
 */
export class HubRegistry {
  private readonly hubs = new Map<string, ChannelHub>();
  private readonly idle = new Map<ChannelHub, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: HubContext,
    private readonly lingerMs: number,
  ) {}

  acquire(name: string, channel: Channel): ChannelHub {
    let hub = this.hubs.get(name);
    if (!hub) {
      const created = new ChannelHub(name, channel, this.ctx);
      this.hubs.set(name, created);
      this.ctx.metrics.live.hubs = this.hubs.size;
      // A hub that could not start is dropped so the next subscriber tries afresh.
      created.ready.catch(() => this.discard(created));
      hub = created;
    }
    this.idle.delete(hub);
    hub.refs++;
    return hub;
  }

  release(hub: ChannelHub): void {
    hub.refs--;
    if (hub.refs > 0 || hub.closed) return;
    this.idle.set(hub, Date.now());
    this.timer ??= setInterval(() => this.closeIdle(Date.now()), Math.max(10, this.lingerMs / 2));
    this.timer.unref();
  }

  get size(): number {
    return this.hubs.size;
  }

  has(name: string): boolean {
    return this.hubs.has(name);
  }

  /** Closes the channel idle the longest, to make room for a new one; false when none is idle. */
  evictIdle(): boolean {
    const oldest = this.idle.keys().next();
    if (oldest.done) return false;
    this.discard(oldest.value);
    return true;
  }

  suspendAll(): void {
    for (const hub of this.hubs.values()) hub.suspend();
  }

  recoverAll(): Promise<void> {
    return Promise.all([...this.hubs.values()].map((hub) => hub.recover())).then(() => undefined);
  }

  closeAll(): void {
    for (const hub of [...this.hubs.values()]) this.discard(hub);
    this.stopTimer();
  }

  private closeIdle(now: number): void {
    for (const [hub, since] of this.idle) if (now - since >= this.lingerMs) this.discard(hub);
    if (this.idle.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private discard(hub: ChannelHub): void {
    this.idle.delete(hub);
    if (this.hubs.get(hub.name) === hub) this.hubs.delete(hub.name);
    this.ctx.metrics.live.hubs = this.hubs.size;
    hub.close();
  }
}
