import { describe, expect, it } from 'vitest';
import { intersectFilters, visibleFilters } from './visible-filters.js';

describe('visible filters', () => {
  it('intersects NATS filters token by token', () => {
    expect(intersectFilters('>', 'a.*.c.>')).toBe('a.*.c.>');
    expect(intersectFilters('a.b.>', 'a.*.c.>')).toBe('a.b.c.>');
    expect(intersectFilters('a.b.>', 'a.c.>')).toBeNull();
    expect(intersectFilters('a.*', 'a.b')).toBe('a.b');
    expect(intersectFilters('a.*', 'a.b.c')).toBeNull();
    expect(intersectFilters('a.*.>', 'a.b')).toBeNull();
  });

  it('confines a broad channel to the claimed warehouses, and nothing for an all-warehouse caller', () => {
    const scope = { all: false, warehouses: new Set(['wa']) };
    expect(visibleFilters({ kind: 'global' }, scope)).toEqual([
      'inventory.product.*.warehouse.wa.>',
      'transfer.*.from.wa.>',
      'transfer.*.from.*.to.wa.>',
    ]);
    expect(visibleFilters({ kind: 'product', productId: 'p1' }, scope)).toEqual([
      'inventory.product.p1.warehouse.wa.>',
    ]);
    expect(visibleFilters({ kind: 'transfer', transferId: 't1' }, scope)).toEqual([
      'transfer.t1.from.wa.>',
      'transfer.t1.from.*.to.wa.>',
    ]);
    expect(visibleFilters({ kind: 'global' }, { all: true, warehouses: new Set() })).toBeNull();
  });
});
