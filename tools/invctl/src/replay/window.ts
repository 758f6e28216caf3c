/**
 * Keeps up to `size` asynchronous operations in flight, in submission order: a replay waiting for each publish
 * acknowledgement in turn would be bound by the round trip (~0.4 ms), not by the server. After the first
 * failure no more work is started; `failure` names the earliest failed item.
 */
export class InFlightWindow<K> {
  private readonly inFlight = new Set<Promise<void>>();
  failure: { key: K; order: number; error: Error } | null = null;
  private submitted = 0;

  constructor(private readonly size: number) {}

  /** Waits for room, then starts `work`; false when an earlier item failed and nothing more should start. */
  async submit<T>(key: K, work: () => Promise<T>, onDone: (result: T) => void): Promise<boolean> {
    while (this.inFlight.size >= this.size) await Promise.race(this.inFlight);
    if (this.failure) return false;
    const order = this.submitted++;
    const running: Promise<void> = work()
      .then(onDone, (error: Error) => {
        if (!this.failure || order < this.failure.order) this.failure = { key, order, error };
      })
      .finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
    return true;
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }
}

/** Spaces operations so that at most `perSecond` start each second (no limit when undefined). */
export function pacer(perSecond: number | undefined, now: () => number = Date.now) {
  const start = now();
  let count = 0;
  return async (): Promise<void> => {
    if (!perSecond) return;
    const due = start + (count++ * 1000) / perSecond;
    const wait = due - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };
}
