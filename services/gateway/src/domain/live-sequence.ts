/**
 * The rules a gateway applies to the live feed (the EVENTS stream's RePublish on `live.>`: at most once, and
 * open to anyone allowed to publish on `live.>`): which live messages are believed, which wait until the stream
 * confirms them, and when the stream must be read because something was lost. Pure: `LiveRouter` does the I/O.
 */

/** The headers RePublish adds to every republished message. */
export interface RepublishHeaders {
  stream: string | undefined;
  subject: string | undefined;
  sequence: string | undefined;
  lastSequence: string | undefined;
}

export type LiveRejection = 'no_headers' | 'wrong_stream' | 'wrong_subject' | 'bad_sequence' | 'out_of_range';

export type RepublishCheck =
  | { ok: true; seq: number; lastSeq: number }
  | { ok: false; reason: Exclude<LiveRejection, 'out_of_range'> };

/**
 * A live message is believed only with the headers RePublish sets: the stream's name, the stored subject equal to
 * the one it was republished from, a sequence, and the previous sequence on that subject below it.
 */
export function checkRepublished(
  headers: RepublishHeaders,
  storedSubject: string,
  streamName: string,
): RepublishCheck {
  const { stream, subject, sequence, lastSequence } = headers;
  if (stream === undefined || subject === undefined || sequence === undefined || lastSequence === undefined) {
    return { ok: false, reason: 'no_headers' };
  }
  if (stream !== streamName) return { ok: false, reason: 'wrong_stream' };
  if (subject !== storedSubject) return { ok: false, reason: 'wrong_subject' };
  const seq = Number(sequence);
  const lastSeq = Number(lastSequence);
  const valid =
    /^\d+$/.test(sequence) &&
    /^\d+$/.test(lastSequence) &&
    Number.isSafeInteger(seq) &&
    seq > 0 &&
    lastSeq < seq;
  return valid ? { ok: true, seq, lastSeq } : { ok: false, reason: 'bad_sequence' };
}

/** A live message that passed `checkRepublished`. */
export interface SequencedMessage {
  seq: number;
}

interface Held<T> {
  message: T;
  arrival: number;
}

export type ReleaseStop<T> =
  /** Everything held was delivered or dropped as a duplicate. */
  | { kind: 'done' }
  /** The next sequence is not held but a later one is: it was lost on its way; read the stream. */
  | { kind: 'gap' }
  /** The next message arrived after the last look at the stream: look again. */
  | { kind: 'look' }
  /** A message the stream had not reached when looked at after the message had arrived. */
  | { kind: 'suspect'; message: T };

/**
 * Live messages held until a look at the stream confirms them, in arrival order, bounded in bytes.
 *
 * The stream numbers its messages one after another and republishes every one, and a process subscribes to all
 * of them, so the live feed is contiguous: the next message to deliver is always `position + 1`. It is
 * delivered once the stream's end, looked at after it arrived, has reached it. A sequence beyond the next one
 * means the ones in between were lost (read them from the stream); a sequence the stream had not reached when
 * looked at after it arrived is not the stream's (unless the stream's own message at that sequence says so).
 * When the buffer overflows it forgets what it holds and reports it: the stream still has every real one.
 */
export class HeldMessages<T extends SequencedMessage> {
  private items: Array<Held<T>> = [];
  private bytes = 0;
  /** Messages pushed so far: a look at the stream covers those that arrived before it was sent. */
  arrivals = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (message: T) => number,
  ) {}

  get length(): number {
    return this.items.length;
  }

  /** Holds a message; false when the buffer overflowed and forgot what it held. */
  push(message: T): boolean {
    this.arrivals++;
    const size = this.sizeOf(message);
    if (this.bytes + size > this.maxBytes) {
      this.items = [];
      this.bytes = 0;
      return false;
    }
    this.items.push({ message, arrival: this.arrivals });
    this.bytes += size;
    return true;
  }

  /**
   * Releases, in sequence order, the held messages that follow `position` one after another up to `end`, the
   * stream's last sequence from a look sent after `lookedAfter` arrivals, and says why it stopped. What is
   * released or skipped as a duplicate leaves the buffer.
   */
  release(position: number, end: number, lookedAfter: number): { deliver: T[]; stop: ReleaseStop<T> } {
    // Real messages arrive in stream order; sorting keeps a forged one from overtaking real ones.
    this.items.sort((a, b) => a.message.seq - b.message.seq || a.arrival - b.arrival);
    const deliver: T[] = [];
    let taken = 0;
    let stop: ReleaseStop<T> = { kind: 'done' };
    for (const { message, arrival } of this.items) {
      if (message.seq <= position) {
        taken++;
        continue;
      }
      if (message.seq > end) {
        if (arrival <= lookedAfter) stop = { kind: 'suspect', message };
        else stop = message.seq === position + 1 ? { kind: 'look' } : { kind: 'gap' };
        break;
      }
      if (message.seq !== position + 1) {
        stop = { kind: 'gap' };
        break;
      }
      deliver.push(message);
      position = message.seq;
      taken++;
    }
    this.drop(taken);
    return { deliver, stop };
  }

  /** Forgets a held message: a suspect the stream does not have. */
  remove(message: T): void {
    const index = this.items.findIndex((item) => item.message === message);
    if (index < 0) return;
    this.bytes -= this.sizeOf(message);
    this.items.splice(index, 1);
  }

  private drop(count: number): void {
    for (const { message } of this.items.splice(0, count)) this.bytes -= this.sizeOf(message);
  }
}
