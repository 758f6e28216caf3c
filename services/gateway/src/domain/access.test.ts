import type { Channel } from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import { canSeeEvent, defaultChannels, refuseSubscribe, scopeOf } from './access.js';

const w1 = scopeOf({ warehouses: ['w1'] });
const all = scopeOf({ warehouses: ['*'] });
const ch = {
  global: { kind: 'global' },
  product: { kind: 'product', productId: 'p1' },
  w1: { kind: 'warehouse', warehouseId: 'w1' },
  w2: { kind: 'warehouse', warehouseId: 'w2' },
  pw2: { kind: 'product-warehouse', productId: 'p1', warehouseId: 'w2' },
} satisfies Record<string, Channel>;

describe('access to channels', () => {
  it('allows every kind on /ws but refuses warehouse channels outside the claims', () => {
    expect(refuseSubscribe('inventory', w1, ch.global)).toBeNull();
    expect(refuseSubscribe('inventory', w1, ch.product)).toBeNull();
    expect(refuseSubscribe('inventory', w1, ch.w1)).toBeNull();
    expect(refuseSubscribe('inventory', w1, ch.w2)?.code).toBe('FORBIDDEN_CHANNEL');
    expect(refuseSubscribe('inventory', w1, ch.pw2)?.code).toBe('FORBIDDEN_CHANNEL');
    expect(refuseSubscribe('inventory', all, ch.pw2)).toBeNull();
  });

  it('allows only warehouse-scoped kinds on /ws/warehouses', () => {
    expect(refuseSubscribe('warehouses', all, ch.global)?.code).toBe('CHANNEL_NOT_ALLOWED_HERE');
    expect(refuseSubscribe('warehouses', all, ch.product)?.code).toBe('CHANNEL_NOT_ALLOWED_HERE');
    expect(refuseSubscribe('warehouses', w1, ch.w1)).toBeNull();
    expect(refuseSubscribe('warehouses', w1, ch.w2)?.code).toBe('FORBIDDEN_CHANNEL');
  });

  it('shows an event when any warehouse it concerns is claimed; one concerning none only to all', () => {
    expect(canSeeEvent(w1, ['w2', 'w1'])).toBe(true);
    expect(canSeeEvent(w1, ['w2'])).toBe(false);
    expect(canSeeEvent(w1, [])).toBe(false);
    expect(canSeeEvent(all, [])).toBe(true);
  });

  it('defaults to global on /ws and to the claimed warehouses on /ws/warehouses', () => {
    expect(defaultChannels('inventory', w1, 100)).toEqual(['global']);
    expect(defaultChannels('warehouses', scopeOf({ warehouses: ['a', 'b', 'c'] }), 2)).toEqual([
      'warehouse:a',
      'warehouse:b',
    ]);
    expect(defaultChannels('warehouses', all, 100)).toEqual([]);
  });
});
