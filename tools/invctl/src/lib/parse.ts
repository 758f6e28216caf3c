import { InvalidArgumentError } from 'commander';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const RELATIVE = /^(\d+)(ms|s|m|h|d|w)$/;

/**
 * A point in time: an ISO 8601 timestamp (`2026-11-22T10:00:00Z`) or a duration back from `now` (`15m`, `2h`,
 * `7d`).
 */
export function parseTime(text: string, now: Date = new Date()): Date {
  const relative = RELATIVE.exec(text.trim());
  if (relative) {
    const ms = Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
    return new Date(now.getTime() - ms);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const date = new Date(text);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new InvalidArgumentError(
    'expected an ISO time (2026-11-22T10:00:00Z) or a duration back (15m, 2h, 7d)',
  );
}

/** A whole number >= `min`, for sequences, limits and counts. */
export function parseWholeNumber(min: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
      throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    }
    return value;
  };
}

export const parseSeq = parseWholeNumber(1);
export const parsePositive = parseWholeNumber(1);

/** A NATS subject or subject filter: dot-separated tokens, `*` for one token, a final `>` for the rest. */
export function parseSubjectFilter(text: string): string {
  const tokens = text.split('.');
  const ok =
    text.length > 0 &&
    tokens.every(
      (t, i) => t.length > 0 && !/\s/.test(t) && (t === '>' ? i === tokens.length - 1 : !t.includes('>')),
    ) &&
    tokens.every((t) => t === '*' || !t.includes('*'));
  if (!ok) throw new InvalidArgumentError('expected a NATS subject filter such as inventory.product.p1.> ');
  return text;
}
