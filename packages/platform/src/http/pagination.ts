import { CONTROL_CHARACTER, DomainError } from '@inv/contracts';

/** A keyset position: the sort values of the last row of a page. */
export type PagePosition = readonly (string | number)[];

/** The opaque `nextCursor` of a page. */
export function encodePageCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/**
 * Reads `after` back into the position it encodes, checking it has the expected types (`'s'` string, `'n'`
 * number); a cursor that was tampered with or belongs to another listing is a 400 naming `after`.
 */
export function decodePageCursor(
  after: string | undefined,
  types: readonly ('s' | 'n')[],
): PagePosition | null {
  if (after === undefined) return null;
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    position = null;
  }
  const valid =
    Array.isArray(position) &&
    position.length === types.length &&
    position.every((value, i) =>
      types[i] === 'n'
        ? Number.isSafeInteger(value)
        : typeof value === 'string' && value.length <= 128 && !CONTROL_CHARACTER.test(value),
    );
  if (!valid)
    throw new DomainError('VALIDATION_FAILED', 'after is not a cursor of this listing', undefined, 'after');
  return position as PagePosition;
}

/**
 * A page from rows fetched with `limit + 1`: the extra row only tells that there is a next page, whose cursor
 * is the position of the last row shown.
 */
export function keysetPage<T, I = T>(
  rows: T[],
  limit: number,
  positionOf: (row: T) => PagePosition,
  toItem: (row: T) => I = (row) => row as unknown as I,
): { items: I[]; page: { limit: number; nextCursor: string | null } } {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  const nextCursor = rows.length > limit && last !== undefined ? encodePageCursor(positionOf(last)) : null;
  return { items: shown.map(toItem), page: { limit, nextCursor } };
}
