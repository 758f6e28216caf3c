import type { CursorPosition } from '@inv/contracts';

/**
 * Whether an event of a channel at `position` was handled already, the channel being at `handled`. The gateway
 * sends a channel's events in stream order, so one at or before the channel's cursor in the same stream is a
 * repeat: one number per channel, where remembering ids cost a channel up to a megabyte. A cursor that does not
 * decode, or one of another stream (made anew: the gateway sends `reset`), is never taken for a repeat.
 */
export function isRepeat(position: CursorPosition | null, handled: CursorPosition | null): boolean {
  return (
    position !== null && handled !== null && position.epoch === handled.epoch && position.seq <= handled.seq
  );
}

/** Remembers the last `capacity` event ids, so an event delivered twice (e.g. around a reconnect) is seen once. */
export class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity = 10_000) {}

  /** True the first time an id is offered. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
    return true;
  }
}
