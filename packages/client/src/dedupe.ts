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
