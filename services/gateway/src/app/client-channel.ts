import type { Channel } from '@inv/contracts';
import { canSeeEvent } from '../domain/access.js';
import {
  type ChannelState,
  type ChannelStep,
  holdsLiveEvents,
  isPositioned,
  nextState,
} from '../domain/channel-state.js';
import type { Frame } from '../domain/frames.js';
import { SeqBuffer } from '../domain/seq-buffer.js';
import type { StoredEvent } from '../domain/stored-event.js';
import type { Connection } from './connection.js';
import type { ChannelHub, HubMember } from './hub.js';

/** Live frames a catching-up client may have held back; beyond this the catch-up reads further instead. */
const HELD_MAX_BYTES = 256 * 1024;

/** A live frame held back, with the warehouses its event concerns: the claims may change before it is sent. */
interface HeldFrame {
  frame: Frame;
  warehouses: readonly string[];
}

/**
 * One channel of one connection: its state (see `ChannelState`), its hub membership, which follows the state,
 * the live frames held back while it catches up, and how far the client got.
 */
export class ClientChannel implements HubMember {
  private current: ChannelState = 'pending';
  private held: SeqBuffer<HeldFrame> | null = null;
  private sentUpTo = 0;
  private ackedUpTo = 0;
  /** Position last written to the durable session (the session tracker's bookkeeping). */
  stored = -1;

  constructor(
    readonly connection: Connection,
    readonly name: string,
    readonly channel: Channel,
    readonly hub: ChannelHub,
    /** A default subscription the client did not ask for: dropped when it subscribes to anything itself. */
    public implicit: boolean,
  ) {}

  get state(): ChannelState {
    return this.current;
  }

  /** Stream sequence of the last event sent on this channel (or where the subscription started). */
  get position(): number {
    return this.sentUpTo;
  }

  /** Highest position the client acknowledged (durable sessions). */
  get acked(): number {
    return this.ackedUpTo;
  }

  /** The position is known and was told to the client: from here on it may be stored and confirmed. */
  get positioned(): boolean {
    return isPositioned(this.current);
  }

  get ended(): boolean {
    return this.current === 'ended';
  }

  /** Highest sequence of a live frame dropped from the held ones: the catch-up must read at least that far. */
  get droppedUpTo(): number {
    return this.held?.droppedUpTo ?? 0;
  }

  /** Joins the hub with live frames held back: the position is looked up, or the catch-up follows at once. */
  hold(): void {
    this.step('hold');
    this.held = new SeqBuffer<HeldFrame>(HELD_MAX_BYTES, (held) => held.frame.length);
    this.hub.attach(this);
  }

  /** Leaves the hub again, dropping what was held (it resumes from the stream instead). */
  unhold(): void {
    this.step('unhold');
    this.held = null;
    this.hub.detach(this);
  }

  /** The client continues after `seq`: the catch-up sends what follows before the held frames. */
  startAt(seq: number): void {
    this.step('position');
    this.sentUpTo = this.ackedUpTo = seq;
  }

  /** Joins the hub live at `seq`, the hub's position: no catch-up. */
  joinLive(seq: number): void {
    this.step('go-live');
    this.sentUpTo = this.ackedUpTo = seq;
    this.hub.attach(this);
  }

  /** An event of the catch-up was sent. */
  caughtUpTo(seq: number): void {
    this.sentUpTo = seq;
  }

  /**
   * Ends the catch-up: sends the held live frames past `after` not sent yet, each checked against the claims as
   * they are now (a token refreshed during the catch-up may have narrowed them); returns how many were sent.
   */
  goLive(after: number): number {
    const held = this.held?.takeAfter(after) ?? [];
    this.step('go-live');
    this.held = null;
    let sent = 0;
    for (const [seq, { frame, warehouses }] of held) {
      if (seq <= this.sentUpTo || !canSeeEvent(this.connection.scope, warehouses)) continue;
      this.sentUpTo = seq;
      if (this.connection.send(frame)) sent++;
    }
    return sent;
  }

  /** The client acknowledged `seq` (never beyond what it was sent). */
  acknowledge(seq: number): void {
    this.ackedUpTo = Math.max(this.ackedUpTo, Math.min(seq, this.sentUpTo));
  }

  /** Leaves the hub for good; false when it had ended already. */
  end(): boolean {
    if (this.current === 'ended') return false;
    this.step('end');
    this.held = null;
    this.hub.detach(this);
    return true;
  }

  offer(event: StoredEvent, frame: Frame): boolean {
    if (!canSeeEvent(this.connection.scope, event.warehouses)) return false;
    if (holdsLiveEvents(this.current)) {
      this.held?.push(event.seq, { frame, warehouses: event.warehouses });
      return false;
    }
    if (this.current !== 'live' || event.seq <= this.sentUpTo) return false;
    this.sentUpTo = event.seq;
    return this.connection.send(frame);
  }

  private step(step: ChannelStep): void {
    this.current = nextState(this.current, step);
  }
}
