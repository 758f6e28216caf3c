import { describe, expect, it } from 'vitest';
import { FloodMeter, TokenBucket } from './token-bucket.js';

describe('rate limiting', () => {
  it('allows a burst of the rate, then the rate per second', () => {
    const bucket = new TokenBucket(10, 10, 0);
    const burst = Array.from({ length: 12 }, () => bucket.take(0));
    expect(burst.filter(Boolean)).toHaveLength(10);
    expect(bucket.take(50)).toBe(false);
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(100)).toBe(false);
    expect(Array.from({ length: 20 }, () => bucket.take(10_000)).filter(Boolean)).toHaveLength(10);
  });

  it('calls a client flooding when refused messages outrun the drain', () => {
    const meter = new FloodMeter(10, 100, 0);
    for (let i = 0; i < 100; i++) expect(meter.refused(0)).toBe(false);
    expect(meter.refused(0)).toBe(true);
    const patient = new FloodMeter(10, 100, 0);
    // Ten refusals a second drain as fast as they come.
    for (let s = 0; s < 60; s++) for (let i = 0; i < 10; i++) expect(patient.refused(s * 1000)).toBe(false);
  });
});
