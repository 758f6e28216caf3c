import { eventFrame } from './frames.js';
import type { StoredEvent } from './stored-event.js';
import { decodeStoredEvent } from './stored-event.js';

/** A message of the stream as the window keeps it; decoded at most once, by the first resume that needs it. */
export interface WindowEntry {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  /** Decoded on first use; null when the message is not an event. */
  event?: StoredEvent | null;
  /** The canonical names of the channels it belongs to, computed on first use. */
  channels?: ReadonlySet<string>;
  /** The event frame last built from it, for a channel and epoch: every resume of that channel sends these bytes. */
  frame?: { channelJson: string; epoch: number; bytes: Buffer };
}

/** Room an entry takes: its bytes, about as much again decoded, once more framed, and the objects around them. */
const ENTRY_OVERHEAD = 320;
const entrySize = (entry: WindowEntry) => 3 * entry.data.length + entry.subject.length + ENTRY_OVERHEAD;

/**
 * The stream's most recent messages as the live router routed them, bounded by count and bytes, so that a client
 * resuming from a recent cursor is served from memory. It holds every stream message in `(from, to]`: it is only
 * ever appended the message routed right after `to`; when the router's position moved without routing (nobody
 * was owed the messages, or the stream was recreated) the next append starts the window afresh from there.
 * Evicting the oldest entry moves `from` up to it. Pure: the router feeds it, resumes read it.
 */
export class RecentWindow {
  private entries: WindowEntry[] = [];
  private head = 0;
  private bytes = 0;
  /** Every stream message after `from` and up to `to` is held. */
  from = 0;
  to = 0;

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
  ) {}

  get enabled(): boolean {
    return this.maxEvents > 0 && this.maxBytes > 0;
  }

  get length(): number {
    return this.entries.length - this.head;
  }

  get size(): number {
    return this.bytes;
  }

  /**
   * The message routed after everything up to `after` was: appended when the window ends at `after`, otherwise
   * the window starts again at `after` with it.
   */
  append(after: number, message: { seq: number; subject: string; data: Uint8Array }): void {
    if (!this.enabled) return;
    if (after !== this.to || message.seq <= after) this.restart(after);
    // A copy: the live message's bytes may be a view of a much larger read buffer.
    const entry: WindowEntry = { seq: message.seq, subject: message.subject, data: message.data.slice() };
    this.entries.push(entry);
    this.bytes += entrySize(entry);
    this.to = message.seq;
    while (this.length > this.maxEvents || this.bytes > this.maxBytes) this.evictOldest();
  }

  /** Forgets everything: the window holds the messages after `at` from now on. */
  restart(at: number): void {
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
    this.from = this.to = at;
  }

  /**
   * The held messages after `seq`, in stream order, when the window holds every message from there to
   * `position` (the router's); null when it does not (the cursor is older, or the window is behind the router).
   */
  after(seq: number, position: number): WindowEntry[] | null {
    if (!this.enabled || this.to !== position || seq < this.from || seq > this.to) return null;
    let low = this.head;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entries[mid]!.seq <= seq) low = mid + 1;
      else high = mid;
    }
    return this.entries.slice(low);
  }

  private evictOldest(): void {
    const oldest = this.entries[this.head]!;
    this.entries[this.head] = undefined as unknown as WindowEntry;
    this.head++;
    this.bytes -= entrySize(oldest);
    this.from = oldest.seq;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

/** The entry's event, decoded once for every resume that serves it. */
export function eventOfEntry(entry: WindowEntry): StoredEvent | null {
  if (entry.event === undefined) entry.event = decodeStoredEvent(entry.seq, entry.subject, entry.data);
  return entry.event;
}

/**
 * The entry's event frame on a channel, built once for every resume of that channel that serves it (a storm of
 * 10,000 clients resuming one channel would otherwise build 10,000 copies of each frame).
 */
export function frameOfEntry(
  entry: WindowEntry,
  event: StoredEvent,
  channelJson: string,
  epoch: number,
): Buffer {
  const cached = entry.frame;
  if (cached && cached.channelJson === channelJson && cached.epoch === epoch) return cached.bytes;
  const bytes = eventFrame(event, channelJson, epoch);
  entry.frame = { channelJson, epoch, bytes };
  return bytes;
}
