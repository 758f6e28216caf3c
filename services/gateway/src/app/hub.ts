import { type Channel, channelFilters, channelsOfSubject, formatChannel } from '@inv/contracts';
import { eventFrame, type Frame } from '../domain/frames.js';
import type { WindowEntry } from '../domain/recent-window.js';
import type { RecentEvents, StoredEvent } from '../domain/stored-event.js';
import type { LiveRouter, LiveRoutes } from './live-router.js';
import type { GatewayMetrics, RawMessage, StreamStateSource } from './ports.js';

/** A client's subscription to a channel, as the channel's hub sees it. */
export interface HubMember {
  /** Offers one live event; true when a frame was sent to the client. */
  offer(event: StoredEvent, frame: Frame): boolean;
}

export interface HubContext {
  /** The process's live feed, in stream order and checked against the stream (see `LiveRouter`). */
  router: LiveRouter;
  stream: StreamStateSource;
  events: RecentEvents;
  metrics: GatewayMetrics;
}

/**
 * One channel in one gateway process, shared by every client of the channel: the live router hands it the
 * channel's messages in stream order; each event is decoded and turned into a frame once, then offered to every
 * member. `position` is the stream sequence up to which the channel has been fanned out: a client attached now
 * is owed exactly the events after it. Only the hub moves its position; only the registry counts its holders.
 */
export class ChannelHub {
  readonly filters: readonly string[];
  readonly channelJson: string;
  /** The canonical channel, as `HubRegistry.route` matches messages to it. */
  readonly key: string;
  /** Resolves once the live feed runs and `position` is known. */
  readonly ready: Promise<void>;
  private readonly members = new Set<HubMember>();
  private fannedOutTo = 0;
  /** Subscriptions holding this hub (members attach only once the hub is ready). */
  private holders = 0;
  private ended = false;

  constructor(
    readonly name: string,
    readonly channel: Channel,
    private readonly ctx: HubContext,
  ) {
    this.filters = channelFilters(channel);
    this.channelJson = JSON.stringify(name);
    this.key = formatChannel(channel);
    // Everything the router has routed so far is before this channel's time.
    this.ready = ctx.router.ready.then(() => {
      this.fannedOutTo = Math.max(this.fannedOutTo, ctx.router.position);
    });
  }

  /** The stream sequence up to which the channel was fanned out. */
  get position(): number {
    return this.fannedOutTo;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** The stream holds at least every message up to here: the live router confirmed each against it. */
  get confirmedUpTo(): number {
    return this.ctx.router.position;
  }

  get memberCount(): number {
    return this.members.size;
  }

  /** One more subscription holds the hub. */
  hold(): void {
    this.holders++;
  }

  /** A subscription let the hub go; returns how many still hold it. */
  letGo(): number {
    this.holders = Math.max(0, this.holders - 1);
    return this.holders;
  }

  attach(member: HubMember): void {
    if (!this.ended) this.members.add(member);
  }

  detach(member: HubMember): void {
    this.members.delete(member);
  }

  /** The next message of the channel, from the router (in stream order). */
  fanOut(message: RawMessage): void {
    if (this.ended || message.seq <= this.fannedOutTo) return;
    this.fannedOutTo = message.seq;
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

  /** Whether a recent message belongs to this channel: the same rule as routing a live one to it. */
  carries(entry: WindowEntry): boolean {
    if (this.channel.kind === 'global') return true;
    entry.channels ??= new Set(channelsOfSubject(entry.subject).map(formatChannel));
    return entry.channels.has(this.key);
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.members.clear();
  }
}

/**
 * Hubs of this process by channel name: created on first use; when the last subscription leaves, kept for a
 * few seconds (a reconnecting client, or the default `global` of a client about to subscribe elsewhere, would
 * otherwise restart it), then closed. One timer for the process sweeps the idle ones.
 */
export class HubRegistry implements LiveRoutes {
  private readonly hubs = new Map<string, ChannelHub>();
  /** Hubs by canonical channel name, for routing a message to the channels of its subject. */
  private readonly byChannel = new Map<string, Set<ChannelHub>>();
  private readonly idle = new Map<ChannelHub, number>();
  private timer: NodeJS.Timeout | null = null;
  private ctx: HubContext | null = null;

  constructor(private readonly lingerMs: number) {}

  /** The router is built with this registry as its routes, so the context comes after. */
  bind(ctx: HubContext): void {
    this.ctx = ctx;
  }

  private get context(): HubContext {
    if (!this.ctx) throw new Error('the hub registry is not bound to a live router');
    return this.ctx;
  }

  get any(): boolean {
    return this.hubs.size > 0;
  }

  /** A message of the live feed, in stream order: to the hubs of every channel its subject belongs to. */
  route(message: RawMessage): void {
    // `global` takes everything, even a subject no other channel knows.
    for (const hub of this.byChannel.get('global') ?? []) hub.fanOut(message);
    for (const channel of channelsOfSubject(message.subject)) {
      if (channel.kind === 'global') continue;
      for (const hub of this.byChannel.get(formatChannel(channel)) ?? []) hub.fanOut(message);
    }
  }

  acquire(name: string, channel: Channel): ChannelHub {
    let hub = this.hubs.get(name);
    if (!hub) {
      const created = new ChannelHub(name, channel, this.context);
      this.hubs.set(name, created);
      const key = formatChannel(channel);
      const same = this.byChannel.get(key) ?? new Set();
      this.byChannel.set(key, same.add(created));
      this.context.metrics.live.hubs = this.hubs.size;
      // A hub that could not start is dropped so the next subscriber tries afresh.
      created.ready.catch(() => this.discard(created));
      hub = created;
    }
    this.idle.delete(hub);
    hub.hold();
    return hub;
  }

  release(hub: ChannelHub): void {
    if (hub.letGo() > 0 || hub.closed) return;
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
    const key = formatChannel(hub.channel);
    const same = this.byChannel.get(key);
    if (same?.delete(hub) && same.size === 0) this.byChannel.delete(key);
    this.context.metrics.live.hubs = this.hubs.size;
    hub.close();
  }
}
