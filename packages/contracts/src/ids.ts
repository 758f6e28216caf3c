import { z } from 'zod';

/**
 * One grammar for every identifier that can reach a NATS subject, a channel name or a URL path.
 * It excludes `.`, `*`, `>` (subject syntax), `:` (channel separator), whitespace and anything non-ASCII,
 * and an ID never starts with `_`, which subjects use as the "absent" token.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const ID_MAX_LENGTH = 64;

const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * True for `constructor`, `toString`, `hasOwnProperty` and every other name `{}` inherits. Channel names refuse
 * them (a client's typo or probe, never a real subscription); stored IDs and subjects keep accepting them, so
 * no event already written with such an ID is stranded.
 */
export function isPrototypeName(value: string): boolean {
  return PROTOTYPE_NAMES.has(value);
}

/** Token that stands in a subject for an optional ID that is absent (variant, UOM). */
export const ABSENT_TOKEN = '_';

export const Id = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(ID_MAX_LENGTH, { error: `must be at most ${ID_MAX_LENGTH} characters` })
  .regex(ID_PATTERN, {
    error: 'must start with a letter or digit and contain only letters, digits, "-" and "_"',
  });
export type Id = z.infer<typeof Id>;

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
