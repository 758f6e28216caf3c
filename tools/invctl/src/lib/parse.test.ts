import { describe, expect, it } from 'vitest';
import { parseSubjectFilter, parseTime, parseWholeNumber } from './parse.js';

describe('parseTime', () => {
  const now = new Date('2026-11-22T12:00:00.000Z');

  it.each([
    ['15m', '2026-11-22T11:45:00.000Z'],
    ['2h', '2026-11-22T10:00:00.000Z'],
    ['7d', '2026-11-15T12:00:00.000Z'],
    ['30s', '2026-11-22T11:59:30.000Z'],
  ])('reads %s as a duration back from now', (text, iso) => {
    expect(parseTime(text, now).toISOString()).toBe(iso);
  });

  it('reads ISO times', () => {
    expect(parseTime('2026-11-20T08:30:00+01:00', now).toISOString()).toBe('2026-11-20T07:30:00.000Z');
  });

  it.each(['yesterday', '15', '-5m', '2026-13-45T99:00:00Z'])('refuses %s', (text) => {
    expect(() => parseTime(text, now)).toThrow('expected an ISO time');
  });
});

describe('parseWholeNumber', () => {
  it('accepts whole numbers from the minimum on and refuses the rest', () => {
    const parse = parseWholeNumber(1);
    expect(parse('42')).toBe(42);
    expect(() => parse('0')).toThrow('>= 1');
    expect(() => parse('1.5')).toThrow();
    expect(() => parse('1e3')).toThrow();
  });
});

describe('parseSubjectFilter', () => {
  it.each(['>', 'transfer.>', 'inventory.product.*.warehouse.w1.>', 'a.b'])('accepts %s', (text) => {
    expect(parseSubjectFilter(text)).toBe(text);
  });

  it.each(['', 'a..b', 'a.>.b', 'a.b*', 'a b'])('refuses %j', (text) => {
    expect(() => parseSubjectFilter(text)).toThrow('subject filter');
  });
});
