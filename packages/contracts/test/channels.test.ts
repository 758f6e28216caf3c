import { describe, expect, it } from 'vitest';
import {
  type Channel,
  channelFilters,
  channelMatchesSubject,
  channelsOfSubject,
  channelWarehouses,
  formatChannel,
  parseChannel,
} from '../src/index.js';

const stock = (p: string, w: string, v = '_', u = '_', e = 'updated') =>
  `inventory.product.${p}.warehouse.${w}.variant.${v}.uom.${u}.${e}`;
const transfer = (t: string, from: string, to: string, e = 'shipped') =>
  `transfer.${t}.from.${from}.to.${to}.${e}`;

const SUBJECTS = {
  p1w1: stock('p1', 'w1'),
  p1w1v1u1: stock('p1', 'w1', 'v1', 'u1', 'low_stock'),
  p2w1v2: stock('p2', 'w1', 'v2'),
  p1w2u2: stock('p1', 'w2', '_', 'u2', 'out_of_stock'),
  p2w2batch: stock('p2', 'w2', 'v1', '_', 'batch_expiring_soon'),
  t1w1w2: transfer('t1', 'w1', 'w2'),
  t2w2w1: transfer('t2', 'w2', 'w1', 'requested'),
  t3w3w4: transfer('t3', 'w3', 'w4', 'cancelled'),
  reservation: 'inventory.reservation.t1.reserved',
};
type Key = keyof typeof SUBJECTS;
const ALL = Object.keys(SUBJECTS) as Key[];

/** For each seed channel: exactly the sample subjects it must select. */
const EXPECTED: [string, Key[]][] = [
  ['global', ALL],
  ['product:p1', ['p1w1', 'p1w1v1u1', 'p1w2u2']],
  ['product:p2', ['p2w1v2', 'p2w2batch']],
  ['warehouse:w1', ['p1w1', 'p1w1v1u1', 'p2w1v2', 't1w1w2', 't2w2w1']],
  ['warehouse:w2', ['p1w2u2', 'p2w2batch', 't1w1w2', 't2w2w1']],
  ['warehouse:w4', ['t3w3w4']],
  ['variant:v1', ['p1w1v1u1', 'p2w2batch']],
  ['variant:v2', ['p2w1v2']],
  ['uom:u1', ['p1w1v1u1']],
  ['uom:u2', ['p1w2u2']],
  ['product:p1:warehouse:w1', ['p1w1', 'p1w1v1u1']],
  ['product:p1:warehouse:w2', ['p1w2u2']],
  ['transfer:t1', ['t1w1w2']],
  ['transfer:t3', ['t3w3w4']],
];

describe('channels', () => {
  describe.each(EXPECTED)('%s', (name, expected) => {
    const parsed = parseChannel(name);
    const channel = parsed.ok ? parsed.channel : (null as never);

    it('parses and formats back to the same name', () => {
      expect(parsed.ok).toBe(true);
      expect(formatChannel(channel)).toBe(name);
    });

    it('selects exactly its subjects through its filters', () => {
      const selected = ALL.filter((key) => channelMatchesSubject(channel, SUBJECTS[key]));
      expect(selected).toEqual(expected);
    });

    it('is listed by channelsOfSubject for exactly the same subjects', () => {
      const listed = ALL.filter((key) =>
        channelsOfSubject(SUBJECTS[key]).some((c) => formatChannel(c) === name),
      );
      expect(listed).toEqual(expected);
    });
  });

  it('maps each channel to filter subjects with single wildcards only', () => {
    const filters = EXPECTED.flatMap(([name]) =>
      channelFilters((parseChannel(name) as { channel: Channel }).channel),
    );
    for (const filter of filters) {
      expect(filter === '>' || /^[A-Za-z0-9_.*-]+(\.>)?$/.test(filter)).toBe(true);
    }
    expect(channelFilters({ kind: 'warehouse', warehouseId: 'w1' })).toEqual([
      'inventory.product.*.warehouse.w1.>',
      'transfer.*.from.w1.>',
      'transfer.*.from.*.to.w1.>',
    ]);
  });

  it.each([
    ['', /1 to/],
    ['globals', /unknown channel/],
    ['product', /unknown channel/],
    ['product:', /invalid id/],
    ['product:p.1', /invalid id/],
    ['product:p*', /invalid id/],
    ['product:>', /invalid id/],
    ['warehouse:w 1', /invalid id/],
    ['product:p1:warehouse', /unknown channel/],
    ['product:p1:warehouse:w.1', /invalid id/],
    ['warehouse:w1:product:p1', /unknown channel/],
    ['transfer:t1:extra', /unknown channel/],
    ['store:s1', /unknown channel/],
    ['x'.repeat(161), /1 to/],
  ])('refuses the channel %j', (name, message) => {
    const parsed = parseChannel(name);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.message).toMatch(message);
  });

  it('refuses a channel that is not a string', () => {
    expect(parseChannel(42)).toEqual({ ok: false, message: 'channel must be a string' });
  });

  it('confines warehouse channels to their warehouse', () => {
    expect(channelWarehouses({ kind: 'warehouse', warehouseId: 'w1' })).toEqual(['w1']);
    expect(channelWarehouses({ kind: 'product-warehouse', productId: 'p', warehouseId: 'w2' })).toEqual([
      'w2',
    ]);
    expect(channelWarehouses({ kind: 'global' })).toBeNull();
  });
});

describe('channel names made of Object.prototype members', () => {
  const names = Object.getOwnPropertyNames(Object.prototype);

  it('covers the inherited names an attacker would try', () => {
    expect(names).toEqual(
      expect.arrayContaining(['constructor', 'toString', 'valueOf', '__proto__', 'hasOwnProperty']),
    );
  });

  it.each(names)('refuses %s as a kind, as an id and as a whole channel', (name) => {
    const channels = [
      name,
      `${name}:x`,
      `${name}:x:warehouse:w1`,
      `product:${name}`,
      `warehouse:${name}`,
      `variant:${name}`,
      `uom:${name}`,
      `transfer:${name}`,
      `product:${name}:warehouse:w1`,
      `product:p1:warehouse:${name}`,
    ];
    for (const channel of channels) {
      const parsed = parseChannel(channel);
      expect(parsed, channel).toEqual({ ok: false, message: expect.any(String) });
    }
  });
});
