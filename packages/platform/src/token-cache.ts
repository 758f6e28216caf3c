import type { AccessClaims } from '@inv/contracts';

interface Entry {
  claims: AccessClaims;
  /** `exp` of the token, in seconds since the epoch. */
  exp: number;
}

/**
 * Claims of tokens already verified, per token string, until their `exp`: a client that sends the same token
 * on every request pays for one signature check. Least recently used entries go first once `capacity` is
 * reached (a Map keeps insertion order; a hit moves its entry to the end).
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached entry, or undefined; an entry past its `exp` is dropped and reported as `expired`. */
  get(token: string, nowSeconds: number): Entry | 'expired' | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    if (entry.exp <= nowSeconds) return 'expired';
    this.entries.set(token, entry);
    return entry;
  }

  set(token: string, entry: Entry): void {
    if (this.capacity <= 0) return;
    this.entries.delete(token);
    this.entries.set(token, entry);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
