import { canSeeEvent } from '../domain/access.js';
import type { StreamState } from '../domain/cursor-check.js';
import { eventFrame, type Frame } from '../domain/frames.js';
import { decodeStoredEvent, type StoredEvent } from '../domain/stored-event.js';
import type { ClientChannel } from './client-channel.js';
import type { ChannelHub } from './hub.js';
import type { GatewayMetrics, RawMessage, StreamReader, StreamStateSource } from './ports.js';
import type { Semaphore } from './semaphore.js';

export interface SharedReplayContext {
  reader: StreamReader;
  stream: StreamStateSource;
  /** One slot per shared read, however many clients it serves. */
  readSlots: Semaphore;
  metrics: GatewayMetrics;
  /** The stream's bounds for a hand-over (never below what the live feed confirmed). */
  lookAtStream: (hub: ChannelHub) => Promise<StreamState>;
}

/**
 * How a member's catch-up ended. `solo`: its socket was congested, so it left the shared read at `position`
 * (nothing after it sent) and reads on alone, so that one slow client never stalls the others.
 */
export interface SharedOutcome {
  replayed: number;
  end: number;
  solo: boolean;
}

interface Member {
  subscription: ClientChannel;
  /** Read at least this far for it: its look at the stream, made after it joined the hub. */
  end: number;
  replayed: number;
  settle: (outcome: SharedOutcome) => void;
}

/** One read of a channel's stream range serving every member that joined it. */
interface SharedRead {
  hub: ChannelHub;
  members: Set<Member>;
  /** The read has passed every channel message up to here; before it starts, where it will start. */
  passed: number;
  started: boolean;
}

/**
 * Client resumes of one channel share stream reads: a client whose cursor the read has not passed yet joins it
 * (before the read starts, any cursor does: the read then starts at the oldest), the others start a read of
 * their own. A read costs one of the process's read slots, reads each message once, decodes it and builds its
 * frame once, then checks every member's claims for it (`canSeeEvent`) and skips what the member already has.
 * It reads on while any member needs more: a later look at the stream, or live frames dropped from the held ones.
 *
 * Exactness: a member is told to go live after `end` only once the read passed `end` for it, and it joined the
 * hub (holding live frames) before its look at the stream: the held frames carry on from there.
 */
export class SharedReplays {
  private readonly reads = new Map<ChannelHub, SharedRead[]>();

  constructor(private readonly ctx: SharedReplayContext) {}

  /**
   * Sends the subscription's channel events after its position up to `end` (at least) from the stream; the
   * subscription holds live frames and is positioned. Resolves where it got to; the caller hands over to live.
   */
  replay(subscription: ClientChannel, end: number): Promise<SharedOutcome> {
    return new Promise((settle) => {
      const member: Member = { subscription, end, replayed: 0, settle };
      const read = this.joinable(subscription.hub, subscription.position);
      if (read) {
        if (!read.started) read.passed = Math.min(read.passed, subscription.position);
        read.members.add(member);
        return;
      }
      this.start(subscription.hub, member);
    });
  }

  /** Reads in flight or forming (for tests and metrics). */
  get active(): number {
    let count = 0;
    for (const reads of this.reads.values()) count += reads.length;
    return count;
  }

  private joinable(hub: ChannelHub, position: number): SharedRead | undefined {
    return this.reads.get(hub)?.find((read) => !read.started || read.passed <= position);
  }

  private start(hub: ChannelHub, first: Member): void {
    const read: SharedRead = {
      hub,
      members: new Set([first]),
      passed: first.subscription.position,
      started: false,
    };
    const reads = this.reads.get(hub);
    if (reads) reads.push(read);
    else this.reads.set(hub, [read]);
    this.run(read).catch(() => this.failAll(read));
  }

  private async run(read: SharedRead): Promise<void> {
    const release = await this.ctx.readSlots.acquire();
    const { metrics } = this.ctx;
    metrics.live.replays++;
    try {
      // Resumes of the channel whose looks at the stream are in flight join before the read starts: one more look
      // answers after theirs (looks are shared), so that clients arriving together share the read.
      await this.ctx.lookAtStream(read.hub);
      read.started = true;
      for (;;) {
        this.settleDone(read);
        if (read.members.size === 0) {
          // In the same tick: nobody joins a read that will not serve it.
          this.forget(read);
          return;
        }
        await this.extendEnds(read);
        const to = Math.max(...[...read.members].map((member) => member.end));
        if (await this.readRange(read, to)) read.passed = Math.max(read.passed, to);
      }
    } finally {
      metrics.live.replays--;
      release();
    }
  }

  /**
   * One range of the stream, each message served to every member; false when it stopped early (every member
   * left): the read then passed only what it served, whoever joins meanwhile.
   */
  private async readRange(read: SharedRead, to: number): Promise<boolean> {
    if (to <= read.passed) return true;
    this.ctx.metrics.replayReads.inc();
    let cut = false;
    await this.ctx.reader.read({
      filters: read.hub.filters,
      fromSeq: read.passed + 1,
      toSeq: to,
      stopped: () => {
        cut ||= read.members.size === 0;
        return cut;
      },
      onMessage: (message) => this.serve(read, message),
    });
    return !cut;
  }

  private serve(read: SharedRead, message: RawMessage): void {
    // Set first: a member joining from here on needs nothing up to this message.
    read.passed = message.seq;
    const event = decodeStoredEvent(message.seq, message.subject, message.data);
    if (!event) {
      this.ctx.metrics.undecodable.inc();
      return;
    }
    const frame = eventFrame(event, read.hub.channelJson, this.ctx.stream.epoch);
    let sent = 0;
    for (const member of read.members) if (this.offer(read, member, event, frame)) sent++;
    this.ctx.metrics.replayedEvents.inc(sent);
    this.ctx.metrics.framesOut.inc(sent);
  }

  private offer(read: SharedRead, member: Member, event: StoredEvent, frame: Frame): boolean {
    const { subscription } = member;
    const { connection } = subscription;
    if (subscription.ended || connection.closing) {
      this.leave(read, member, false);
      return false;
    }
    if (event.seq <= subscription.position || !canSeeEvent(connection.scope, event.warehouses)) return false;
    if (connection.congested()) {
      this.leave(read, member, true);
      return false;
    }
    subscription.caughtUpTo(event.seq);
    member.replayed++;
    connection.send(frame);
    return true;
  }

  /** Members whose end the read passed (and whose held frames carry on from there) go live; ended ones go. */
  private settleDone(read: SharedRead): void {
    for (const member of read.members) {
      const { subscription } = member;
      if (subscription.ended || subscription.connection.closing) this.leave(read, member, false);
      else if (member.end <= read.passed && subscription.droppedUpTo <= read.passed) {
        read.members.delete(member);
        member.settle({ replayed: member.replayed, end: read.passed, solo: false });
      }
    }
  }

  /** Members that dropped live frames past their end need the stream further: one look serves them all. */
  private async extendEnds(read: SharedRead): Promise<void> {
    const behind = [...read.members].filter((member) => member.subscription.droppedUpTo > member.end);
    if (behind.length === 0) return;
    const { lastSeq } = await this.ctx.lookAtStream(read.hub);
    for (const member of behind) member.end = Math.max(member.end, lastSeq);
  }

  private leave(read: SharedRead, member: Member, solo: boolean): void {
    read.members.delete(member);
    member.settle({ replayed: member.replayed, end: member.end, solo });
  }

  /** The read failed (the stream unavailable): every member resumes alone, whose own read reports it. */
  private failAll(read: SharedRead): void {
    this.forget(read);
    for (const member of read.members) this.leave(read, member, true);
  }

  private forget(read: SharedRead): void {
    const reads = this.reads.get(read.hub);
    if (!reads) return;
    const rest = reads.filter((other) => other !== read);
    if (rest.length > 0) this.reads.set(read.hub, rest);
    else this.reads.delete(read.hub);
  }
}
