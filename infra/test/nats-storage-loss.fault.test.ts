import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Transfer, WS_CLOSE } from '@inv/contracts';
import { withTimeout } from '@inv/platform';
import { eventually, fetchJson, type Stack, startStack, TestWsClient } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from './support.js';

const WAREHOUSES = ['sl-a', 'sl-b'];

/**
 * A single NATS node that comes back without its JetStream storage: every stream, consumer and KV bucket is gone.
 * Before, each service needed a restart: the outbox waited for a stream nobody made, the saga's consumers waited
 * for consumers nobody made, and every durable-session connection was closed with 1013.
 */
describe('NATS restarted without its storage under the running system', () => {
  let stack: Stack;
  let token: string;
  const clients: TestWsClient[] = [];
  beforeAll(async () => {
    stack = await startStack();
    token = await stack.token();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.terminate()));
    await stack?.stop();
  });

  const connect = async (query?: Record<string, string>) => {
    const client = await TestWsClient.connect(stack.gatewayUrl(), { token, query });
    clients.push(client);
    return client;
  };
  const adjust = (productId: string, warehouseId: string, quantity: number) =>
    fetchJson(`${stack.inventory.url}/api/inventory/adjust`, {
      method: 'POST',
      token,
      body: { productId, warehouseId, quantity, movementType: 'in' },
    });

  it('makes its streams, consumers and sessions bucket again: events, the saga and sessions work without a restart', async () => {
    expect((await adjust('sl-p', WAREHOUSES[0]!, 10)).status).toBe(200);
    const before = await connect();
    before.send({ type: 'subscribe', channel: `warehouse:${WAREHOUSES[0]}` });
    await before.nextFrame('subscribed', { timeoutMs: 20_000 });

    const server = stack.nats.server!;
    await server.kill('SIGKILL');
    rmSync(join(server.storeDir, 'js'), { recursive: true, force: true });
    await server.launch();

    // The gateway sees a new stream: every position it held is void, so its clients are told to reconnect.
    const closed = await withTimeout(before.closed, 30_000, 'the gateway to see the new stream');
    expect(closed.code).toBe(WS_CLOSE.serviceRestart);
    for (const service of [stack.inventory, stack.transfer, ...stack.gateways]) await ready(service.url);

    // Live events on the new stream, and a durable session in the new bucket.
    const after = await eventually(
      async () => {
        const client = await connect({ session: 'storage-loss' });
        client.send({ type: 'subscribe', channel: `warehouse:${WAREHOUSES[0]}` });
        const subscribed = await client.nextFrame('subscribed', { timeoutMs: 5_000 }).catch(() => null);
        return subscribed ? client : null;
      },
      { timeoutMs: 30_000, message: 'a durable-session client to subscribe on the new stream' },
    );
    expect((await adjust('sl-p', WAREHOUSES[0]!, 5)).status).toBe(200);
    const [event] = await after.waitForEvents(`warehouse:${WAREHOUSES[0]}`, 1, { timeoutMs: 20_000 });
    expect(event).toMatchObject({ type: 'inventory.updated' });
    expect(after.isClosed).toBe(false);

    // The saga: a transfer approved after the loss is reserved through events in both directions.
    const created = await fetchJson<Transfer>(`${stack.transfer.url}/api/transfers`, {
      method: 'POST',
      token,
      body: {
        sourceWarehouseId: WAREHOUSES[0],
        destinationWarehouseId: WAREHOUSES[1],
        lines: [{ productId: 'sl-p', quantity: 3 }],
      },
    });
    expect(created.status).toBe(201);
    const base = `${stack.transfer.url}/api/transfers/${created.body.transferId}`;
    expect((await fetchJson(`${base}/approve`, { method: 'POST', token, body: {} })).status).toBe(200);
    await eventually(
      async () => (await fetchJson<Transfer>(base, { token })).body.reservationStatus === 'reserved',
      { timeoutMs: 30_000, message: 'the reservation through the saga' },
    );
  });
});
