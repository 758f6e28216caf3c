import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, reconnectDelay } from '../src/backoff.js';
import { subscribeBatches } from '../src/client.js';
import { RecentIds } from '../src/dedupe.js';

describe('reconnect backoff', () => {
  it('grows exponentially up to the cap', () => {
    const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
    expect([0, 1, 2, 3].map((a) => reconnectDelay(a, noJitter))).toEqual([250, 500, 1000, 2000]);
    expect(reconnectDelay(30, noJitter)).toBe(DEFAULT_BACKOFF.maxMs);
  });

  it('spreads clients with jitter inside [base × (1 − jitter), base]', () => {
    expect(reconnectDelay(2, DEFAULT_BACKOFF, () => 0)).toBe(500);
    expect(reconnectDelay(2, DEFAULT_BACKOFF, () => 1)).toBe(1000);
    const delays = new Set(Array.from({ length: 50 }, () => reconnectDelay(3)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('recent event ids', () => {
  it('accepts an id once', () => {
    const ids = new RecentIds();
    expect(ids.add('a')).toBe(true);
    expect(ids.add('a')).toBe(false);
  });

  it('forgets the oldest ids beyond its capacity', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'c', 'd']) ids.add(id);
    expect(ids.add('a')).toBe(true);
    expect(ids.add('d')).toBe(false);
  });
});

describe('subscribe batches', () => {
  const limits = { maxFrameBytes: 4096, maxChannelsPerConnection: 100 };

  it('sends one channel in the original form and many as lists that fit the frame limit', () => {
    expect(subscribeBatches(['global'], limits)).toEqual([{ type: 'subscribe', channel: 'global' }]);
    const entries = Array.from({ length: 80 }, (_, i) => ({
      channel: `product:p-${i}`,
      cursor: 'v1.12345.abcdefgh',
    }));
    const batches = subscribeBatches(entries, limits);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.every((batch) => JSON.stringify(batch).length <= limits.maxFrameBytes)).toBe(true);
    expect(batches.flatMap((batch) => batch.channels as unknown[])).toEqual(entries);
  });

  it('keeps each list within the channel limit', () => {
    const channels = Array.from({ length: 25 }, (_, i) => `uom:u${i}`);
    const batches = subscribeBatches(channels, { maxFrameBytes: 4096, maxChannelsPerConnection: 10 });
    expect(batches.map((batch) => (batch.channels as unknown[]).length)).toEqual([10, 10, 5]);
  });
});
