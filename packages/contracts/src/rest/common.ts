import { z } from 'zod';

export const REST_LIMITS = { maxBodyBytes: 64 * 1024, maxPageSize: 200, defaultPageSize: 50 } as const;

/** Control characters: never part of an id, a name or a search; PostgreSQL refuses a NUL in text outright. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
/** Text without any: the same characters, as a pattern the OpenAPI document can carry. */
const WITHOUT_CONTROL_CHARACTERS = new RegExp(`^[^${CONTROL_CHARACTER.source.slice(1, -1)}]*$`);

/** Free text that never reaches a subject: printable, bounded. */
export const Text = (max: number) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .regex(WITHOUT_CONTROL_CHARACTERS, { error: 'must not contain control characters' });

/**
 * A moment PostgreSQL stores and JavaScript writes back as the same ISO string: years 1 to 9999 in UTC. An ISO
 * string outside them (`0000-01-01`, or `9999-12-31T23:00:00-02:00`, which is year 10000 in UTC) parses, but the
 * database refuses it.
 */
export function isStorableDate(date: Date): boolean {
  const year = date.getUTCFullYear();
  return !Number.isNaN(date.getTime()) && year >= 1 && year <= 9999;
}

/** Keyset pagination: `after` is the opaque `nextCursor` of the previous page. */
export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(REST_LIMITS.maxPageSize).default(REST_LIMITS.defaultPageSize),
  after: z.string().max(128).optional(),
});
export type PageQuery = z.infer<typeof PageQuery>;

export const PageInfo = z.object({ limit: z.int(), nextCursor: z.string().nullable() });

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), page: PageInfo });
}

/** Optional expected version for optimistic concurrency, also accepted as `If-Match: "<version>"`. */
export const ExpectedVersion = z.int().min(0).optional();
