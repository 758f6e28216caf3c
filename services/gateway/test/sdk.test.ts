import { type ClientEvent, InventoryClient, type WebSocketFactory } from '@inv/client';
import { eventually } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type GatewayFixture, gatewayFixture, stockEvent } from './support.js';

describe('the client SDK against the gateway', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture();
  });
  afterAll(async () => f?.close());

  it('receives every event exactly once across a gateway restart, resuming by cursor', async () => {
    const first = f.gateways[0]!;
    const port = first.port;
    const client = new InventoryClient({
      url: `ws://127.0.0.1:${port}/ws`,
      token: await f.token(),
      WebSocket: WebSocket as unknown as WebSocketFactory,
      backoff: { initialMs: 50, maxMs: 200 },
      heartbeatMs: 0,
    });
    const received: ClientEvent[] = [];
    const live: string[] = [];
    client.on('live', ({ channel }) => live.push(channel));
    client.subscribe('product:sdk', (event) => received.push(event));
    const subscribed = new Promise((resolve) => client.on('subscribed', resolve));
    client.connect();
    await subscribed;

    const before = Array.from({ length: 5 }, () =>
      stockEvent('inventory.updated', { productId: 'sdk', warehouseId: 'w1' }),
    );
    await f.publish(...before);
    await eventually(() => received.length === 5);

    await first.stop();
    const during = Array.from({ length: 20 }, () =>
      stockEvent('inventory.low_stock', { productId: 'sdk', warehouseId: 'w1' }),
    );
    await f.publish(...during);
    await f.startGateway({ PORT: String(port) });
    await eventually(() => live.includes('product:sdk'), { message: 'the SDK to resume' });
    const after = [stockEvent('inventory.out_of_stock', { productId: 'sdk', warehouseId: 'w1' })];
    await f.publish(...after);

    const all = [...before, ...during, ...after];
    await eventually(() => received.length >= all.length);
    expect(received.map((event) => event.id)).toEqual(all.map((event) => event.id));
    client.close();
  });
});
