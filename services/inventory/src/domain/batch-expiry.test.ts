import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  daysUntilExpiry,
  parseExpiry,
  reachedThresholds,
  thresholdToAnnounce,
} from './batch-expiry.js';

describe('batch expiry', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const inDays = (days: number) => new Date(now.getTime() + days * DAY_MS);

  it('reaches each threshold once and announces only the tightest of those reached together', () => {
    expect(reachedThresholds(inDays(40), now, [30, 7, 1], [])).toEqual([]);
    expect(reachedThresholds(inDays(30), now, [30, 7, 1], [])).toEqual([30]);
    expect(reachedThresholds(inDays(20), now, [30, 7, 1], [30])).toEqual([]);
    expect(reachedThresholds(inDays(5), now, [30, 7, 1], [])).toEqual([30, 7]);
    expect(thresholdToAnnounce([30, 7])).toBe(7);
    expect(thresholdToAnnounce([])).toBeNull();
    expect(reachedThresholds(inDays(-1), now, [30, 7, 1], [])).toEqual([]);
  });

  it('counts whole days left and reads a date-only expiry as the start of that day in UTC', () => {
    expect(daysUntilExpiry(inDays(1.5), now)).toBe(1);
    expect(daysUntilExpiry(inDays(0.2), now)).toBe(0);
    expect(parseExpiry('2026-03-31').toISOString()).toBe('2026-03-31T00:00:00.000Z');
    expect(parseExpiry('2026-03-31T12:00:00+02:00').toISOString()).toBe('2026-03-31T10:00:00.000Z');
  });
});
