import { type ClientEvent, InventoryClient, type WebSocketFactory } from '@inv/client';
import { eventually } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type GatewayFixture, gatewayFixture, stockEvent } from './support.js';

/**
 * A durable session's positions are written on a sweep (SESSION_FLUSH_MS) and when a connection closes. A channel
 * the session never stored had no position at all until the first sweep: a reload that reached another instance
 * before it, while the old connection lingered there (a proxy holding the socket, a network switch), found none
 * and started the channel at the live end, skipping what the page had not acknowledged.
 */
describe('the first position of a durable session channel', () => {
  let f: GatewayFixture;
  const clients: InventoryClient[] = [];
  beforeAll(async () => {
    // No sweep runs during the test: only the write made when the channel got its position can be there.
    f = await gatewayFixture({ instances: 2, env: { SESSION_FLUSH_MS: '600000' } });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await f?.close();
  });

  async function sessionClient(instance: number) {
    const client = new InventoryClient({
      url: f.wsUrl(instance),
      token: await f.token(),
      WebSocket: WebSocket as unknown as WebSocketFactory,
      session: { id: 'lingering-tab' },
      ackIntervalMs: 3_600_000,
      heartbeatMs: 0,
    });
    clients.push(client);
    return client;
  }

  it('is stored when the channel is subscribed, so a reload on another instance resumes from it', async () => {
    const channel = 'product:first-position';
    const events = Array.from({ length: 3 }, () =>
      stockEvent('inventory.updated', { productId: 'first-position', warehouseId: 'w1' }),
    );
    const before = await sessionClient(0);
    const handled: ClientEvent[] = [];
    const subscribed = new Promise((resolve) => before.on('subscribed', resolve));
    before.subscribe(channel, (event) => handled.push(event));
    before.connect();
    await subscribed;
    await f.publish(...events);
    await eventually(() => handled.length === 3, { message: 'the first page to handle 3 events' });

    // The page reloads; its old connection on instance 0 is still open (nothing acknowledged, nothing swept).
    const after = await sessionClient(1);
    const resumed: ClientEvent[] = [];
    after.subscribe(channel, (event) => resumed.push(event));
    after.connect();
    await eventually(() => resumed.length >= 3, {
      message: 'the reloaded page to get the 3 events it had not acknowledged',
    });
    expect(resumed.map((event) => event.id)).toEqual(events.map((event) => event.id));
  });
});
