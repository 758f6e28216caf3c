import { sampleEvent } from '@inv/testkit';
import { describe, expect, it } from 'vitest';
import { ORDER_RESERVATION_EVENT_TYPES } from '../src/events/catalog.js';
import {
  channelsOfSubject,
  EVENT_TYPES,
  formatChannel,
  parseSubject,
  stockSubject,
  subjectMatches,
  subjectOf,
  transferSubject,
  warehousesOfSubject,
} from '../src/index.js';
import { reservationSubject } from '../src/subjects.js';

describe('subjects', () => {
  it('puts stock events under product, warehouse, variant and UOM tokens', () => {
    expect(
      stockSubject({ productId: 'p1', warehouseId: 'w1', variantId: 'v1', uomId: 'u1' }, 'inventory.updated'),
    ).toBe('inventory.product.p1.warehouse.w1.variant.v1.uom.u1.updated');
    expect(stockSubject({ productId: 'p1', warehouseId: 'w1' }, 'batch.expiring_soon')).toBe(
      'inventory.product.p1.warehouse.w1.variant._.uom._.batch_expiring_soon',
    );
  });

  it.each(ORDER_RESERVATION_EVENT_TYPES)('carries %s on the stock channels of its record', (type) => {
    const subject = subjectOf(sampleEvent(type));
    expect(subject).toBe(
      `inventory.product.prod-123.warehouse.wh-001.variant.variant-456.uom.uom-box.${type.slice(10)}`,
    );
    expect(channelsOfSubject(subject).map(formatChannel).sort()).toEqual(
      [
        'global',
        'product:prod-123',
        'product:prod-123:warehouse:wh-001',
        'uom:uom-box',
        'variant:variant-456',
        'warehouse:wh-001',
      ].sort(),
    );
  });

  it('puts transfer events under the transfer and both warehouses', () => {
    expect(
      transferSubject(
        { transferId: 't1', sourceWarehouseId: 'w1', destinationWarehouseId: 'w2' },
        'transfer.packed',
      ),
    ).toBe('transfer.t1.from.w1.to.w2.packed');
    expect(reservationSubject('t1', 'inventory.reservation_failed')).toBe(
      'inventory.reservation.t1.reservation_failed',
    );
  });

  it.each(['p.1', 'p*', '>', '', 'a b'])('refuses to build a subject from the ID %j', (bad) => {
    expect(() => stockSubject({ productId: bad, warehouseId: 'w' }, 'inventory.updated')).toThrow(/invalid/);
    expect(() =>
      transferSubject(
        { transferId: 't', sourceWarehouseId: bad, destinationWarehouseId: 'w' },
        'transfer.shipped',
      ),
    ).toThrow(/invalid/);
  });

  it.each(EVENT_TYPES)('round-trips the subject of %s through the parser', (type) => {
    const event = sampleEvent(type);
    const parsed = parseSubject(subjectOf(event));
    expect(parsed?.eventType).toBe(type);
  });

  it('parses every field back out of a stock subject', () => {
    expect(parseSubject('inventory.product.p1.warehouse.w1.variant._.uom.u1.low_stock')).toEqual({
      family: 'stock',
      productId: 'p1',
      warehouseId: 'w1',
      variantId: null,
      uomId: 'u1',
      eventType: 'inventory.low_stock',
    });
  });

  it.each([
    'inventory.product.p1.warehouse.w1.variant._.uom._',
    'inventory.product.p1.warehouse.w1.variant._.uom._.exploded',
    'inventory.product.p1.store.w1.variant._.uom._.updated',
    'inventory.product.*.warehouse.w1.variant._.uom._.updated',
    'transfer.t1.from.w1.to.w2',
    'transfer.t1.to.w1.from.w2.shipped',
    'inventory.reservation.t1.shipped',
    'webhooks.endpoint.e1.shipped',
    'webhooks.endpoint.e.1.paused',
    'webhooks.ep.e1.paused',
    'live.inventory.product.p1.warehouse.w1.variant._.uom._.updated',
    '',
  ])('returns null for the foreign subject %j', (subject) => {
    expect(parseSubject(subject)).toBeNull();
  });

  it('names the warehouses an event concerns', () => {
    expect(warehousesOfSubject(parseSubject('transfer.t1.from.w1.to.w2.shipped')!)).toEqual(['w1', 'w2']);
    expect(
      warehousesOfSubject(parseSubject('inventory.product.p.warehouse.w9.variant._.uom._.updated')!),
    ).toEqual(['w9']);
    expect(warehousesOfSubject(parseSubject('inventory.reservation.t1.reserved')!)).toEqual([]);
    expect(warehousesOfSubject(parseSubject('webhooks.endpoint.e1.paused')!)).toEqual([]);
  });

  it('puts webhook endpoint events on a subject of their own, outside every warehouse', () => {
    expect(parseSubject('webhooks.endpoint.e1.resumed')).toEqual({
      family: 'webhook',
      endpointId: 'e1',
      eventType: 'webhooks.endpoint_resumed',
    });
    expect(channelsOfSubject('webhooks.endpoint.e1.paused')).toEqual([{ kind: 'global' }]);
  });

  describe('wildcard matching', () => {
    it.each([
      ['a.b.c', 'a.b.c', true],
      ['a.*.c', 'a.b.c', true],
      ['a.*', 'a.b.c', false],
      ['a.>', 'a.b.c', true],
      ['a.>', 'a', false],
      ['>', 'a', true],
      ['a.b.c.d', 'a.b.c', false],
      ['a.b', 'a.b.c', false],
    ])('%s against %s is %s', (filter, subject, expected) => {
      expect(subjectMatches(filter, subject)).toBe(expected);
    });
  });
});

describe('subjects whose event token is an Object.prototype name', () => {
  it.each(Object.getOwnPropertyNames(Object.prototype))('parses none ending in %s', (name) => {
    expect(parseSubject(`inventory.product.p1.warehouse.w1.variant._.uom._.${name}`)).toBeNull();
    expect(parseSubject(`inventory.reservation.t1.${name}`)).toBeNull();
    expect(parseSubject(`transfer.t1.from.w1.to.w2.${name}`)).toBeNull();
    expect(parseSubject(`webhooks.endpoint.e1.${name}`)).toBeNull();
  });
});
