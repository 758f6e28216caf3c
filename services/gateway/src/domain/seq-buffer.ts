/**
 * Items held back, in stream order, while a channel catches up from the stream (a client's replay or a
 * channel's backfill after a broker reconnect). Bounded: when it overflows it forgets what it holds and
 * remembers the highest sequence forgotten, so that the catch-up reads at least that far from the stream
 * instead (the stream still has every one of them).
 */
export class SeqBuffer<T> {
  private seqs: number[] = [];
  private items: T[] = [];
  private size = 0;
  /** Highest sequence dropped on overflow; the catch-up must read the stream at least up to it. */
  droppedUpTo = 0;

  constructor(
    private readonly maxSize: number,
    private readonly sizeOf: (item: T) => number = () => 1,
  ) {}

  push(seq: number, item: T): void {
    const size = this.sizeOf(item);
    if (this.size + size > this.maxSize) {
      this.droppedUpTo = seq;
      this.seqs = [];
      this.items = [];
      this.size = 0;
      return;
    }
    this.seqs.push(seq);
    this.items.push(item);
    this.size += size;
  }

  get length(): number {
    return this.items.length;
  }

  /** Takes every held item with a sequence above `seq`, in order, and empties the buffer. */
  takeAfter(seq: number): Array<[number, T]> {
    const taken: Array<[number, T]> = [];
    for (let i = 0; i < this.seqs.length; i++) {
      if (this.seqs[i]! > seq) taken.push([this.seqs[i]!, this.items[i]!]);
    }
    this.seqs = [];
    this.items = [];
    this.size = 0;
    return taken;
  }
}
