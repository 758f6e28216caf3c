import { sampleEvent, VALID_DATA } from '@inv/testkit';
import { describe, expect, it } from 'vitest';
import { eventIdTime } from '../src/event-id.js';
import {
  DomainEvent,
  decodeEvent,
  EVENT_CATALOG,
  EVENT_TYPES,
  newEventId,
  parseEvent,
  SEED_EVENT_TYPES,
} from '../src/index.js';

describe('event catalogue', () => {
  it('holds the thirteen event types of the original contract', () => {
    expect(SEED_EVENT_TYPES).toEqual([
      'inventory.updated',
      'inventory.low_stock',
      'inventory.out_of_stock',
      'batch.expiring_soon',
      'transfer.requested',
      'transfer.approved',
      'transfer.rejected',
      'transfer.picking_started',
      'transfer.packed',
      'transfer.shipped',
      'transfer.received',
      'transfer.completed',
      'transfer.cancelled',
    ]);
  });

  describe.each(EVENT_TYPES)('%s', (type) => {
    it('accepts a valid event at its current version', () => {
      const result = parseEvent(sampleEvent(type));
      expect(result).toMatchObject({ ok: true, upcastFrom: null });
      expect(DomainEvent.safeParse(sampleEvent(type)).success).toBe(true);
    });

    it('refuses data with a wrong type in a field', () => {
      const bad = { ...sampleEvent(type), data: { ...VALID_DATA[type], timestamp: 12 } };
      expect(parseEvent(bad)).toMatchObject({ ok: false, reason: 'invalid_data' });
    });

    it('refuses data with a missing required field', () => {
      const { timestamp: _dropped, ...data } = VALID_DATA[type];
      expect(parseEvent({ ...sampleEvent(type), data })).toMatchObject({ ok: false, reason: 'invalid_data' });
    });

    it('refuses a schema version newer than the catalogue knows', () => {
      const future = { ...sampleEvent(type), schemaVersion: EVENT_CATALOG[type].current + 1 };
      expect(parseEvent(future)).toMatchObject({ ok: false, reason: 'unknown_version' });
    });
  });

  it('refuses an unknown event type', () => {
    expect(parseEvent({ ...sampleEvent('inventory.updated'), type: 'inventory.exploded' })).toMatchObject({
      ok: false,
      reason: 'unknown_type',
    });
  });

  it('refuses an envelope without a UUIDv7 id or with a bad aggregate', () => {
    expect(parseEvent({ ...sampleEvent('inventory.updated'), id: 'abc' })).toMatchObject({
      ok: false,
      reason: 'invalid_envelope',
    });
    const badAggregate = {
      ...sampleEvent('inventory.updated'),
      aggregate: { type: 'inventory', id: 'a.b', version: 1 },
    };
    expect(parseEvent(badAggregate)).toMatchObject({ ok: false, reason: 'invalid_envelope' });
  });

  it('refuses IDs with subject syntax inside event data', () => {
    const data = { ...VALID_DATA['inventory.updated'], warehouseId: 'wh.*' };
    expect(parseEvent({ ...sampleEvent('inventory.updated'), data })).toMatchObject({ ok: false });
  });

  it('upcasts a version 1 inventory.updated (the original flat shape) to version 2', () => {
    const v1 = {
      ...sampleEvent('inventory.updated'),
      schemaVersion: 1,
      data: {
        inventoryId: 'inv-1',
        productId: 'prod-123',
        warehouseId: 'wh-001',
        quantityAvailable: 100,
        quantityReserved: 4,
        version: 5,
        previousQuantity: 90,
        changeAmount: 10,
        movementType: 'in',
        timestamp: '2025-12-10T10:00:00.000Z',
      },
    };
    const result = parseEvent(v1);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.upcastFrom).toBe(1);
    expect(result.event.schemaVersion).toBe(2);
    expect(result.event.data).toMatchObject({
      quantityAvailable: 100,
      variantId: null,
      uomId: null,
      previousReserved: 4,
      reservedChange: 0,
      minimumStock: null,
      movementType: 'in',
      location: null,
    });
  });

  it('maps an unknown version 1 movement type to adjustment when upcasting', () => {
    const v1 = {
      ...sampleEvent('inventory.updated'),
      schemaVersion: 1,
      data: {
        inventoryId: 'inv-1',
        productId: 'p',
        warehouseId: 'w',
        quantityAvailable: 1,
        quantityReserved: 0,
        version: 1,
        previousQuantity: 0,
        changeAmount: 1,
        movementType: 'recount',
        timestamp: '2025-12-10T10:00:00.000Z',
      },
    };
    const result = parseEvent(v1);
    expect(result.ok && result.event.data).toMatchObject({ movementType: 'adjustment' });
  });

  it('decodes bytes and reports bytes that are not JSON', () => {
    const bytes = new TextEncoder().encode(JSON.stringify(sampleEvent('transfer.shipped')));
    expect(decodeEvent(bytes)).toMatchObject({ ok: true, event: { type: 'transfer.shipped' } });
    expect(decodeEvent('{not json')).toMatchObject({ ok: false, reason: 'invalid_envelope' });
  });
});

describe('event ids', () => {
  it('are UUIDv7, unique and strictly increasing within a process', () => {
    const ids = Array.from({ length: 10_000 }, () => newEventId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('encode the time they were made', () => {
    const at = Date.UTC(2026, 10, 22, 12, 0, 0);
    expect(eventIdTime(newEventId(at + 1000))).toBeGreaterThanOrEqual(at + 1000);
  });
});
