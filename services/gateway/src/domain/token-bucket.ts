/**
 * A token bucket: `ratePerSecond` tokens a second, at most `capacity` saved up. Two numbers per connection and no
 * timer: tokens are topped up lazily from the elapsed time whenever one is taken.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number = ratePerSecond,
    now: number = Date.now(),
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Takes one token; false when the bucket is empty. */
  take(now: number = Date.now()): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.updatedAt = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}

/**
 * How much a client floods: every refused message adds one, and the score drains at the allowed rate. A client
 * that keeps sending far faster than allowed crosses `limit` and is disconnected, so that the error frames the
 * gateway answers with cannot be turned into an amplifier.
 */
export class FloodMeter {
  private score = 0;
  private updatedAt: number;

  constructor(
    private readonly drainPerSecond: number,
    private readonly limit: number,
    now: number = Date.now(),
  ) {
    this.updatedAt = now;
  }

  /** Records one refused message; true once the client has flooded past the limit. */
  refused(now: number = Date.now()): boolean {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.updatedAt = now;
    this.score = Math.max(0, this.score - (elapsed * this.drainPerSecond) / 1000) + 1;
    return this.score > this.limit;
  }
}
