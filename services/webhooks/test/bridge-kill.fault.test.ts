import {
  createTestDatabase,
  eventually,
  fetchJson,
  mintToken,
  ServiceProcess,
  startTestNats,
  TEST_JWT_SECRET,
  type TestDatabase,
  type TestNats,
} from '@inv/testkit';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishStockEvent, TestReceiver } from './support.js';

const SECRET = 'a-secret-of-at-least-16-chars';

describe('webhook bridge killed mid-delivery', () => {
  let nats: TestNats;
  let db: TestDatabase;
  let nc: NatsConnection;
  let bridge: ServiceProcess;
  const receiver = new TestReceiver();

  beforeAll(async () => {
    nats = await startTestNats();
    db = await createTestDatabase('webhooks_kill');
    nc = await connect({ servers: nats.url });
    await receiver.start();
    bridge = await ServiceProcess.start({
      entry: 'services/webhooks/dist/main.js',
      env: {
        NATS_URL: nats.url,
        DATABASE_URL: db.url,
        JWT_SECRET: TEST_JWT_SECRET,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        // Short, so the delivery cut by the kill is redelivered soon after the restart.
        WEBHOOK_TIMEOUT_MS: '1000',
      },
    });
  });
  afterAll(async () => {
    await bridge?.stop();
    await receiver.stop();
    await nc?.close();
    await db?.drop();
    await nats?.stop();
  });

  it('delivers every event at least once on the wire and exactly once by id, in order, across SIGKILLs', async () => {
    const token = await mintToken({ roles: ['admin'], warehouses: ['*'] });
    const reply = await fetchJson<{ endpointId: string }>(`${bridge.url}/api/webhooks`, {
      method: 'POST',
      token,
      body: { url: receiver.url, eventTypes: ['inventory.low_stock'], warehouses: ['W1'], secret: SECRET },
    });
    expect(reply.status).toBe(201);
    // Slow answers, so kills land while a delivery is in flight.
    receiver.respond = () => new Promise((resolve) => setTimeout(() => resolve(204), 30));
    const published: string[] = [];
    for (let i = 0; i < 60; i++)
      published.push((await publishStockEvent(nc, 'inventory.low_stock', 'W1')).id);
    for (const after of [10, 30]) {
      await eventually(() => receiver.requests.length >= after, {
        timeoutMs: 30_000,
        message: `${after} requests`,
      });
      await bridge.kill('SIGKILL');
      await bridge.launch();
    }
    await eventually(() => receiver.uniqueIds().length === published.length, {
      timeoutMs: 60_000,
      message: 'every event after the kills',
    });
    expect(receiver.uniqueIds()).toEqual(published);
    expect(receiver.verified(SECRET)).toBe(true);
    console.log(
      `webhook kill test: ${published.length} events, ${receiver.requests.length} requests on the wire, ` +
        `${receiver.uniqueIds().length} distinct ids`,
    );
  });
});
