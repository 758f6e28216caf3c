import { describe, expect, it } from 'vitest';
import { isPrototypeName } from '../src/ids.js';
import { Id, isValidId } from '../src/index.js';

describe('ID grammar', () => {
  it.each([
    'prod-123',
    'wh-001',
    'variant-456',
    'uom-box',
    'A',
    '0',
    'a_b-C9',
    'x'.repeat(64),
    '0190c1a2-7b3c-7def-8123-456789abcdef',
  ])('accepts %s', (id) => {
    expect(Id.safeParse(id).success).toBe(true);
    expect(isValidId(id)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['a dot', 'wh.001'],
    ['a star', 'wh*'],
    ['a greater-than', 'wh>'],
    ['a bare wildcard', '>'],
    ['a space', 'wh 001'],
    ['a tab', 'wh\t1'],
    ['a newline', 'wh\n1'],
    ['a colon', 'product:1'],
    ['a slash', 'a/b'],
    ['unicode', 'wh-ü'],
    ['an emoji', 'wh-📦'],
    ['a leading underscore (the absent token)', '_'],
    ['a leading dash', '-a'],
    ['65 characters', 'x'.repeat(65)],
  ])('rejects an ID with %s', (_what, id) => {
    expect(Id.safeParse(id).success).toBe(false);
    expect(isValidId(id)).toBe(false);
  });

  it('rejects non-strings', () => {
    for (const value of [1, null, undefined, {}, ['a']]) expect(isValidId(value)).toBe(false);
  });

  it('names the rule in its error message', () => {
    const result = Id.safeParse('wh.1');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/letters, digits/);
  });
});

describe('ID grammar and Object.prototype', () => {
  it.each(Object.getOwnPropertyNames(Object.prototype))('names %s as inherited', (name) => {
    expect(isPrototypeName(name)).toBe(true);
  });

  it('keeps accepting stored ids that happen to be such names, so no event with one is stranded', () => {
    for (const id of ['constructor', 'toString', 'valueOf']) expect(Id.safeParse(id).success).toBe(true);
    for (const id of ['constructor-1', 'Constructor', 'p1']) expect(isPrototypeName(id)).toBe(false);
  });
});
