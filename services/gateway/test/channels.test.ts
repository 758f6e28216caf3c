import {
  type DomainEvent,
  newEventId,
  SEED_EVENT_TYPES,
  stockSubject,
  TRANSFER_EVENT_TYPES,
} from '@inv/contracts';
import type { TestWsClient } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GatewayFixture,
  gatewayFixture,
  ids,
  reservationEvent,
  stockEvent,
  subscribe,
  transferEvent,
} from './support.js';

const T1 = { transferId: 't1', from: 'w1', to: 'w2' };
const T2 = { transferId: 't2', from: 'w2', to: 'w3' };
const SEED_TRANSFER_TYPES = TRANSFER_EVENT_TYPES.filter((t) => SEED_EVENT_TYPES.includes(t));

/** Every seed event type, on several products, warehouses, variants, units and two transfers. */
function scenario(): DomainEvent[] {
  return [
    stockEvent('inventory.updated', { productId: 'p1', warehouseId: 'w1', variantId: 'v1', uomId: 'u1' }),
    stockEvent('inventory.low_stock', { productId: 'p1', warehouseId: 'w2', variantId: 'v2', uomId: 'u1' }),
    stockEvent('inventory.out_of_stock', { productId: 'p2', warehouseId: 'w1' }),
    stockEvent('batch.expiring_soon', { productId: 'p2', warehouseId: 'w3', variantId: 'v1', uomId: 'u2' }),
    stockEvent('inventory.updated', { productId: 'p2', warehouseId: 'w2', variantId: 'v1' }),
    ...SEED_TRANSFER_TYPES.map((type) => transferEvent(type, T1)),
    transferEvent('transfer.requested', T2),
    transferEvent('transfer.stock_reserved', T2),
    reservationEvent('t1', 'w1'),
    // Fences: the last event of every channel below, so that once it arrives everything before it has.
    stockEvent('inventory.updated', { productId: 'p1', warehouseId: 'w1', variantId: 'v1', uomId: 'u1' }),
    transferEvent('transfer.completed', T1),
    transferEvent('transfer.completed', T2),
    stockEvent('inventory.updated', { productId: 'p2', warehouseId: 'w3', variantId: 'v1', uomId: 'u2' }),
  ];
}

type Data = Record<string, unknown>;
const isStock = (e: DomainEvent) => 'productId' in e.data && 'inventoryId' in e.data;
const isTransfer = (e: DomainEvent) => e.type.startsWith('transfer.');
const d = (e: DomainEvent) => e.data as Data;
const touches = (e: DomainEvent, w: string) =>
  isStock(e)
    ? d(e).warehouseId === w
    : isTransfer(e) && (d(e).sourceWarehouseId === w || d(e).destinationWarehouseId === w);

/** What each channel of the original contract must carry, written from the events' data. */
const EXPECTED: Record<string, (e: DomainEvent) => boolean> = {
  global: () => true,
  'product:p1': (e) => isStock(e) && d(e).productId === 'p1',
  'product:p2': (e) => isStock(e) && d(e).productId === 'p2',
  'warehouse:w1': (e) => touches(e, 'w1'),
  'warehouse:w2': (e) => touches(e, 'w2'),
  'variant:v1': (e) => isStock(e) && d(e).variantId === 'v1',
  'uom:u1': (e) => isStock(e) && d(e).uomId === 'u1',
  'product:p1:warehouse:w1': (e) => isStock(e) && d(e).productId === 'p1' && d(e).warehouseId === 'w1',
  'transfer:t1': (e) => isTransfer(e) && d(e).transferId === 't1',
  'transfer:t2': (e) => isTransfer(e) && d(e).transferId === 't2',
};

describe('channels', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture();
  });
  afterAll(async () => f?.close());

  async function subscribed(channel: string, options: Parameters<GatewayFixture['client']>[0] = {}) {
    const client = await f.client(options);
    expect(await subscribe(client, channel)).toMatchObject({ type: 'subscribed', channel });
    return client;
  }

  async function expectExactly(client: TestWsClient, channel: string, expected: DomainEvent[]) {
    const frames = await client.waitForEvents(channel, expected.length);
    expect(ids(frames), channel).toEqual(ids(expected));
    expect(client.events().filter((frame) => frame.channel !== channel)).toEqual([]);
    return frames;
  }

  it('delivers to every seed channel exactly its events, in order, and nothing else', async () => {
    const clients = new Map<string, TestWsClient>();
    for (const channel of Object.keys(EXPECTED)) clients.set(channel, await subscribed(channel));
    const events = scenario();
    await f.publish(...events);

    for (const [channel, matches] of Object.entries(EXPECTED)) {
      await expectExactly(clients.get(channel)!, channel, events.filter(matches));
    }
    const global = clients.get('global')!.events('global');
    expect(new Set(global.map((frame) => frame.type))).toEqual(
      new Set([...SEED_EVENT_TYPES, 'transfer.stock_reserved', 'inventory.reserved']),
    );
    global.forEach((frame, i) => {
      expect(frame).toEqual({
        type: events[i]!.type,
        channel: 'global',
        id: events[i]!.id,
        cursor: expect.any(String),
        occurredAt: events[i]!.occurredAt,
        data: events[i]!.data,
      });
    });
  });

  it('serves warehouse channels on /ws/warehouses and subscribes claimed warehouses by default', async () => {
    const explicit = await subscribed('product:p2:warehouse:w3', {
      path: '/ws/warehouses',
      claims: { warehouses: ['w3'] },
    });
    const byDefault = await f.client({ path: '/ws/warehouses', claims: { warehouses: ['w3'] } });
    await byDefault.waitFor((frame) => frame.type === 'subscribed' && frame.channel === 'warehouse:w3');
    const events = scenario();
    await f.publish(...events);
    await expectExactly(
      explicit,
      'product:p2:warehouse:w3',
      events.filter((e) => isStock(e) && touches(e, 'w3') && d(e).productId === 'p2'),
    );
    await expectExactly(
      byDefault,
      'warehouse:w3',
      events.filter((e) => touches(e, 'w3')),
    );
  });

  it('filters broad channels by the warehouses the token grants', async () => {
    const w1Global = await subscribed('global', { claims: { warehouses: ['w1'] } });
    const w2Product = await subscribed('product:p1', { claims: { warehouses: ['w2'] } });
    const everything = await subscribed('global');
    const events = scenario();
    // A final event every one of them sees, so that everything before it has arrived.
    const fence = transferEvent('transfer.cancelled', { transferId: 't9', from: 'w1', to: 'w2' });
    const lastP1 = stockEvent('inventory.updated', { productId: 'p1', warehouseId: 'w2' });
    await f.publish(...events, fence, lastP1);

    await expectExactly(
      w1Global,
      'global',
      [...events, fence, lastP1].filter((e) => touches(e, 'w1')),
    );
    await expectExactly(
      w2Product,
      'product:p1',
      [...events, lastP1].filter((e) => EXPECTED['product:p1']!(e) && touches(e, 'w2')),
    );
    // Reservation answers name no warehouse: only a caller that sees every warehouse gets them.
    const all = await everything.waitForEvents('global', events.length + 2);
    expect(all.some((frame) => frame.type === 'inventory.reserved')).toBe(true);
    expect(w1Global.events().some((frame) => frame.type === 'inventory.reserved')).toBe(false);
  });

  it('upcasts events stored at an older schema version to the current one', async () => {
    const client = await subscribed('product:p-old');
    const v1 = {
      id: newEventId(),
      type: 'inventory.updated',
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      aggregate: { type: 'inventory', id: 'inv-old', version: 1 },
      correlationId: null,
      causationId: null,
      data: {
        inventoryId: 'inv-old',
        productId: 'p-old',
        warehouseId: 'w1',
        quantityAvailable: 7,
        quantityReserved: 1,
        version: 2,
        previousQuantity: 5,
        changeAmount: 2,
        movementType: 'in',
        timestamp: new Date().toISOString(),
      },
    };
    await f.js.publish(
      stockSubject({ productId: 'p-old', warehouseId: 'w1' }, 'inventory.updated'),
      JSON.stringify(v1),
    );
    const frame = await client.waitFor((frame) => frame.id === v1.id);
    expect(frame.data).toMatchObject({
      ...v1.data,
      variantId: null,
      uomId: null,
      reservedChange: 0,
      location: null,
    });
  });
});
