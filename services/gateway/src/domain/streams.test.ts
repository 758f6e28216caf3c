import { decodeCursor, EventFrame, newEventId } from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import { resetReasonFor } from './cursor-check.js';
import { eventFrame } from './frames.js';
import { SeqBuffer } from './seq-buffer.js';
import { channelOfSessionKey, sessionKey, sessionPrefix } from './session-keys.js';
import { decodeStoredEvent, RecentEvents } from './stored-event.js';

const SUBJECT = 'inventory.product.p1.warehouse.w1.variant._.uom._.updated';
const envelope = (schemaVersion: number, data: unknown, type = 'inventory.updated') =>
  JSON.stringify({
    id: newEventId(),
    type,
    schemaVersion,
    occurredAt: '2026-11-22T10:00:00.000Z',
    aggregate: { type: 'inventory', id: 'inv-1', version: 1 },
    correlationId: null,
    causationId: null,
    data,
  });
const v1 = {
  inventoryId: 'inv-1',
  productId: 'p1',
  warehouseId: 'w1',
  quantityAvailable: 3,
  quantityReserved: 0,
  version: 1,
  previousQuantity: 1,
  changeAmount: 2,
  movementType: 'in',
  timestamp: '2026-11-22T10:00:00.000Z',
};

describe('stored events and frames', () => {
  it('decodes an event once into what every frame needs', () => {
    const event = decodeStoredEvent(7, SUBJECT, Buffer.from(envelope(2, { anything: 1 })));
    expect(event).toMatchObject({
      seq: 7,
      type: 'inventory.updated',
      dataJson: '{"anything":1}',
      warehouses: ['w1'],
    });
    const frame = JSON.parse(eventFrame(event!, '"product:p1"', 1_700_000_000_000).toString());
    expect(EventFrame.parse(frame)).toEqual(frame);
    expect(decodeCursor(frame.cursor)).toEqual({ seq: 7, epoch: 1_700_000_000_000 });
  });

  it('upcasts older versions, forwards unknown types, skips what is not an event', () => {
    expect(JSON.parse(decodeStoredEvent(1, SUBJECT, envelope(1, v1))!.dataJson)).toMatchObject({
      ...v1,
      location: null,
    });
    expect(decodeStoredEvent(1, SUBJECT, envelope(1, { productId: 'p1' }))).toBeNull();
    expect(
      decodeStoredEvent(1, 'inventory.future.x', envelope(1, { a: 1 }, 'inventory.teleported')),
    ).toMatchObject({
      type: 'inventory.teleported',
      warehouses: [],
    });
    expect(decodeStoredEvent(1, SUBJECT, 'not json')).toBeNull();
    expect(decodeStoredEvent(1, SUBJECT, '{"id":1}')).toBeNull();
  });

  it('decodes a message reaching several channels only once', () => {
    const recent = new RecentEvents(2);
    const bytes = Buffer.from(envelope(2, {}));
    const first = recent.decode(1, SUBJECT, bytes);
    expect(recent.decode(1, SUBJECT, bytes)).toBe(first);
    recent.decode(2, SUBJECT, bytes);
    recent.decode(3, SUBJECT, bytes);
    expect(recent.decode(1, SUBJECT, bytes)).not.toBe(first);
  });
});

describe('cursor checks', () => {
  const stream = { epoch: 100, firstSeq: 11, lastSeq: 50 };
  it.each([
    [{ seq: 10, epoch: 100 }, null],
    [{ seq: 50, epoch: 100 }, null],
    [{ seq: 9, epoch: 100 }, 'cursor_expired'],
    [{ seq: 51, epoch: 100 }, 'cursor_ahead'],
    [{ seq: 20, epoch: 99 }, 'stream_recreated'],
  ])('%j → %s', (cursor, reason) => {
    expect(resetReasonFor(cursor, stream)).toBe(reason);
  });

  it('resumes a cursor at the end of a stream emptied by retention', () => {
    expect(resetReasonFor({ seq: 50, epoch: 100 }, { epoch: 100, firstSeq: 51, lastSeq: 50 })).toBeNull();
  });
});

describe('held frames', () => {
  it('gives back what came after a sequence, in order', () => {
    const buffer = new SeqBuffer<string>(100, (s) => s.length);
    for (const seq of [3, 5, 8]) buffer.push(seq, `f${seq}`);
    expect(buffer.takeAfter(4)).toEqual([
      [5, 'f5'],
      [8, 'f8'],
    ]);
    expect(buffer.length).toBe(0);
  });

  it('forgets everything on overflow and remembers how far the stream must be read', () => {
    const buffer = new SeqBuffer<string>(10, (s) => s.length);
    buffer.push(1, 'aaaaa');
    buffer.push(2, 'bbbbb');
    buffer.push(3, 'ccccc');
    expect(buffer.droppedUpTo).toBe(3);
    buffer.push(4, 'dd');
    expect(buffer.takeAfter(0)).toEqual([[4, 'dd']]);
  });
});

describe('session keys', () => {
  it('are valid KV keys that give the channel back, per user', () => {
    const prefix = sessionPrefix('alice@example.com', 's-1');
    const key = sessionKey(prefix, 'product:p1:warehouse:w1');
    expect(key).toMatch(/^[-/=.\w]+$/);
    expect(channelOfSessionKey(prefix, key)).toBe('product:p1:warehouse:w1');
    expect(sessionPrefix('bob', 's-1')).not.toBe(prefix);
    expect(channelOfSessionKey(sessionPrefix('bob', 's-1'), key)).toBeNull();
  });
});
