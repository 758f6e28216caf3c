import { describe, expect, it } from 'vitest';
import { parseBuckets, quantileBetween } from './prom-histogram.js';

const page = (publish: number[], queue: number[]) =>
  [
    '# HELP outbox_relay_phase_seconds parts',
    '# TYPE outbox_relay_phase_seconds histogram',
    ...['0.001', '0.01', '0.1', '+Inf'].map(
      (le, i) =>
        `outbox_relay_phase_seconds_bucket{le="${le}",phase="publish",service="inventory"} ${publish[i]}`,
    ),
    ...['0.001', '0.01', '0.1', '+Inf'].map(
      (le, i) =>
        `outbox_relay_phase_seconds_bucket{le="${le}",phase="queue",service="inventory"} ${queue[i]}`,
    ),
    'outbox_relay_phase_seconds_sum{phase="publish",service="inventory"} 1',
  ].join('\n');

describe('histograms read from /metrics', () => {
  it('reads the buckets of the series with the asked labels only', () => {
    const buckets = parseBuckets(page([1, 2, 3, 4], [9, 9, 9, 9]), 'outbox_relay_phase_seconds', {
      phase: 'publish',
    });
    expect(buckets).toEqual([
      { le: 0.001, count: 1 },
      { le: 0.01, count: 2 },
      { le: 0.1, count: 3 },
      { le: Infinity, count: 4 },
    ]);
  });

  it('takes the quantile of what was counted between two reads, as its bucket upper bound', () => {
    const name = 'outbox_relay_phase_seconds';
    const before = parseBuckets(page([100, 100, 100, 100], [0, 0, 0, 0]), name, { phase: 'publish' });
    // 100 more: 90 under 1 ms, 9 under 10 ms, 1 under 100 ms.
    const after = parseBuckets(page([190, 199, 200, 200], [0, 0, 0, 0]), name, { phase: 'publish' });
    expect(quantileBetween(before, after, 0.5)).toBe(0.001);
    expect(quantileBetween(before, after, 0.99)).toBe(0.01);
    expect(quantileBetween(before, after, 1)).toBe(0.1);
    expect(quantileBetween(after, after, 0.99)).toBeNull();
  });
});
