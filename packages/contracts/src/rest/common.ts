import { z } from 'zod';

export const REST_LIMITS = { maxBodyBytes: 64 * 1024, maxPageSize: 200, defaultPageSize: 50 } as const;

/** Free text that never reaches a subject: printable, bounded. */
export const Text = (max: number) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse control characters
    .regex(/^[^\u0000-\u001f\u007f]*$/, { error: 'must not contain control characters' });

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
