import { ID_PATTERN } from '@inv/contracts';
import fc from 'fast-check';
import { mintToken } from './tokens.js';

/**
 * IDs an attacker or a broken client sends where an ID goes (path, body, channel): NATS subject syntax (`.`,
 * `*`, `>`), whitespace, control and non-ASCII characters, and IDs far over the 64-character limit. None is a
 * valid ID, so each must be refused with a clear error before it reaches a subject or a query.
 */
export const HOSTILE_IDS = [
  'a.b',
  '*',
  '>',
  'a.*',
  'a.>',
  'p1.>',
  '.',
  'a b',
  ' a',
  'a\t',
  'a\nb',
  'a\u0000b',
  'ä',
  'p-\u{1F4A5}',
  '\u202Ep1',
  'p\uFEFF1',
  '..',
  '-leading-dash',
  '_',
  'x'.repeat(65),
  'x'.repeat(10_000),
] as const;

/** Characters that must never get into a subject token or be accepted as part of an ID. */
const forbidden = fc.constantFrom('.', '*', '>', ' ', '\t', '\n', '\u0000', 'é', '\u{1F4A5}', '/', '%', '$');

/** Arbitrary invalid IDs: the fixed ones above, valid-looking IDs with a forbidden character, over-long IDs. */
export const hostileId: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(...HOSTILE_IDS),
    fc
      .tuple(fc.stringMatching(/^[a-z0-9]{1,10}$/), forbidden, fc.stringMatching(/^[a-z0-9]{0,10}$/))
      .map(([a, c, b]) => `${a}${c}${b}`),
    fc.integer({ min: 65, max: 2_000 }).map((n) => 'p'.repeat(n)),
    fc.string({ minLength: 1, maxLength: 80 }),
  )
  .filter((id) => !ID_PATTERN.test(id));

/** What a JSON body value can be, for fields fed the wrong type. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(-1, 0.5, 1e21, Number.MAX_SAFE_INTEGER, '', '1', true, null, [], {}),
);

export interface BadToken {
  kind:
    | 'missing'
    | 'expired'
    | 'without expiry'
    | 'living too long'
    | 'wrongly signed'
    | 'malformed'
    | 'unsigned';
  token: string | null;
}

/** One token of each kind a server must refuse with 401 (REST) or 4401 (WebSocket). */
export async function badTokens(): Promise<BadToken[]> {
  const valid = await mintToken({ roles: ['admin'], warehouses: ['*'] });
  const [header, payload] = valid.split('.');
  const unsignedHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  return [
    { kind: 'missing', token: null },
    {
      kind: 'expired',
      token: await mintToken(
        { roles: ['admin'] },
        { issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresIn: Math.floor(Date.now() / 1000) - 3600 },
      ),
    },
    { kind: 'without expiry', token: await mintToken({ roles: ['admin'] }, { expiresIn: null }) },
    { kind: 'living too long', token: await mintToken({ roles: ['admin'] }, { expiresIn: '400d' }) },
    {
      kind: 'wrongly signed',
      token: await mintToken(
        { roles: ['admin'] },
        { secret: 'another-secret-that-is-long-enough-for-hs256-xx' },
      ),
    },
    { kind: 'malformed', token: `${header}.${payload}` },
    { kind: 'unsigned', token: `${unsignedHeader}.${payload}.` },
  ];
}

/** A field that is usually valid and sometimes anything at all, so that generated bodies mix right and wrong fields. */
export function mostlyValid<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: fc.oneof(hostileId, anyJson) });
}

/** The body as given, or (one time in six) with an unknown extra field that a strict schema must refuse. */
export function withStrayField(body: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant(body) },
    { weight: 1, arbitrary: fc.record({ extra: anyJson }).map((extra) => ({ ...body, ...extra })) },
  );
}
