import { describe, expect, it } from 'vitest';
import { sentAtOf, timedReason, WARMUP_REASON } from './events.js';
import { LatencyHistogram, percentile, ratio, Samples, summarize } from './stats.js';

describe('percentile', () => {
  it('takes the nearest rank of sorted values', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile(values, 1)).toBe(100);
    expect(percentile(values, 0)).toBe(1);
  });

  it('is the only value of a single sample and NaN of none', () => {
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe('summarize', () => {
  it('sorts before ranking and reports count, max and mean', () => {
    expect(summarize([5, 1, 4, 2, 3])).toEqual({ count: 5, p50: 3, p99: 5, max: 5, mean: 3 });
  });
});

describe('Samples', () => {
  it('keeps every value past its initial capacity', () => {
    const samples = new Samples();
    for (let i = 0; i < 5000; i++) samples.push(i);
    expect(samples.length).toBe(5000);
    expect(samples.summary().max).toBe(4999);
    expect(samples.summary().p50).toBe(2499);
  });
});

describe('ratio', () => {
  it('rounds to hundredths and refuses a zero or missing divisor', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(1, 3)).toBe(0.33);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(Number.NaN, 2)).toBeNull();
  });
});

describe('timed reasons', () => {
  it('carry the send time with its fraction, and warm-up reasons carry none', () => {
    expect(sentAtOf(timedReason(1764355200123.456))).toBe(1764355200123.456);
    expect(sentAtOf(WARMUP_REASON)).toBeNull();
    expect(sentAtOf(null)).toBeNull();
    expect(sentAtOf('bench:not-a-number')).toBeNull();
  });
});

describe('LatencyHistogram', () => {
  it('gives percentiles within 1% of the exact ones', () => {
    const histogram = new LatencyHistogram();
    const values = Array.from({ length: 10_000 }, (_, i) => 0.05 + i * 0.37);
    for (const value of values) histogram.record(value);
    const exact = summarize(values);
    expect(Math.abs(histogram.percentile(0.5) - exact.p50) / exact.p50).toBeLessThanOrEqual(0.01);
    expect(Math.abs(histogram.percentile(0.99) - exact.p99) / exact.p99).toBeLessThanOrEqual(0.01);
    expect(histogram.summary().max).toBe(exact.max);
  });

  it('merges rounds as if they had been recorded together', () => {
    const first = new LatencyHistogram();
    const second = new LatencyHistogram();
    const together = new LatencyHistogram();
    for (let i = 1; i <= 500; i++) {
      first.record(i);
      together.record(i);
      second.record(i * 3);
      together.record(i * 3);
    }
    first.merge(second.data());
    expect(first.summary()).toEqual(together.summary());
  });
});
