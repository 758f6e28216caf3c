import { readFileSync } from 'node:fs';
import {
  DEAD_LETTERS_STREAM,
  DURABLE_CONSUMERS,
  deadLetterSubject,
  EVENTS_STREAM,
  redriveSubject,
  subjectOf,
} from '@inv/contracts';
import { type Gateway, loadGatewayConfig, startGateway } from '@inv/gateway';
import { ensureDeadLettersStream, ensureDurableConsumer, ensureEventsStream } from '@inv/platform';
import {
  createTestDatabase,
  eventually,
  fetchJson,
  mintToken,
  NatsServer,
  readStoredEvents,
  TEST_JWT_SECRET,
  type TestDatabase,
  TestWsClient,
  testLogger,
} from '@inv/testkit';
import { loadWebhooksConfig, startWebhooksService, type WebhooksService } from '@inv/webhooks';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stockEvent } from '../../services/gateway/test/support.js';
import { publishStockEvent, TestReceiver } from '../../services/webhooks/test/support.js';

const CONFIG = new URL('../nats/nats-accounts.conf', import.meta.url);
const PASSWORDS = {
  inventory: 'inventory-test-password',
  transfer: 'transfer-test-password',
  gateway: 'gateway-test-password',
  webhooks: 'webhooks-test-password',
  operator: 'operator-test-password',
} as const;
type User = keyof typeof PASSWORDS;

const stockSubject = 'inventory.product.p1.warehouse.w1.variant._.uom._.inventory.updated';
const transferSubject = 'transfer.t1.from.w1.to.w2.transfer.requested';
const reservationSubject = 'inventory.reservation.t1.inventory.reserved';

/**
 * Publishes on a subject and resolves with the server's permission error for it, or null once a round trip
 * to the server has passed without one (the publish was allowed).
 */
async function publishRefusal(nc: NatsConnection, subject: string): Promise<string | null> {
  const errors: string[] = [];
  const watching = (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'error') errors.push(String((status as { error?: unknown }).error));
    }
  })();
  nc.publish(subject, 'probe');
  await nc.flush();
  await nc.flush();
  void watching;
  return errors.find((error) => error.includes(subject)) ?? null;
}

describe('NATS users per service (infra/nats/nats-accounts.conf)', () => {
  let server: NatsServer;
  const connections: NatsConnection[] = [];
  let gateway: Gateway | undefined;
  let webhooks: WebhooksService | undefined;
  let webhooksDb: TestDatabase | undefined;
  const receiver = new TestReceiver();
  const as = async (user: User) => {
    const nc = await connect({ servers: server.url, user, pass: PASSWORDS[user] });
    connections.push(nc);
    return nc;
  };

  beforeAll(async () => {
    const variables = Object.entries(PASSWORDS)
      .map(([user, password]) => `${user.toUpperCase()}_NATS_PASSWORD: "${password}"`)
      .join('\n');
    server = await NatsServer.start({ config: `${variables}\n${readFileSync(CONFIG, 'utf8')}` });
    // The operator creates the stream and the durable consumers, as the setup does in compose.
    const jsm = await jetstreamManager(await as('operator'));
    await ensureEventsStream(jsm, {});
    await ensureDeadLettersStream(jsm, {});
    for (const durable of Object.values(DURABLE_CONSUMERS)) await ensureDurableConsumer(jsm, durable);
  });
  afterAll(async () => {
    await gateway?.stop();
    await webhooks?.stop();
    await webhooksDb?.drop();
    await receiver.stop();
    await Promise.all(connections.map((nc) => nc.close()));
    await server?.stop();
  });

  it('refuses a connection without a user or with a wrong password', async () => {
    await expect(connect({ servers: server.url })).rejects.toThrow(/authorization/i);
    await expect(connect({ servers: server.url, user: 'gateway', pass: 'guess' })).rejects.toThrow(
      /authorization/i,
    );
  });

  it('lets inventory publish its own events and nothing of transfer, live or the stream API', async () => {
    const nc = await as('inventory');
    const js = jetstream(nc);
    expect((await js.publish(stockSubject, '{}')).stream).toBe(EVENTS_STREAM);
    expect((await js.publish(reservationSubject, '{}')).stream).toBe(EVENTS_STREAM);
    for (const subject of [
      transferSubject,
      `live.${stockSubject}`,
      `$JS.API.STREAM.DELETE.${EVENTS_STREAM}`,
      `$JS.API.STREAM.PURGE.${EVENTS_STREAM}`,
      `$JS.API.CONSUMER.DELETE.${EVENTS_STREAM}.${DURABLE_CONSUMERS.transferReservations.name}`,
    ]) {
      expect(await publishRefusal(nc, subject), subject).toMatch(/permissions violation/i);
    }
    // What the service does at start (the stream as configured, its durable consumer) and its consumer's reads.
    const jsm = await jetstreamManager(nc);
    await ensureEventsStream(jsm, {});
    await ensureDurableConsumer(jsm, DURABLE_CONSUMERS.inventoryTransfers);
    const consumer = await js.consumers.get(EVENTS_STREAM, DURABLE_CONSUMERS.inventoryTransfers.name);
    expect(await consumer.info()).toMatchObject({ name: DURABLE_CONSUMERS.inventoryTransfers.name });
    const transferNc = await as('transfer');
    await jetstream(transferNc).publish(transferSubject, '{}');
    const message = await consumer.next({ expires: 2_000 });
    expect(message?.subject).toBe(transferSubject);
    await message!.ackAck();
  });

  it("lets inventory dead-letter its own events and answer a redrive, and nothing of transfer's", async () => {
    const nc = await as('inventory');
    const jsm = await jetstreamManager(nc);
    await ensureDeadLettersStream(jsm, {});
    const ack = await jetstream(nc).publish(deadLetterSubject('inventory', transferSubject), '{}');
    expect(ack.stream).toBe(DEAD_LETTERS_STREAM);
    for (const subject of [
      deadLetterSubject('transfer', reservationSubject),
      `$JS.API.STREAM.DELETE.${DEAD_LETTERS_STREAM}`,
      `$JS.API.STREAM.PURGE.${DEAD_LETTERS_STREAM}`,
    ]) {
      expect(await publishRefusal(nc, subject), subject).toMatch(/permissions violation/i);
    }
    const name = DURABLE_CONSUMERS.inventoryTransfers.name;
    const redrives = nc.subscribe(redriveSubject(name), {
      queue: 'redrive',
      callback: (_error, msg) => void msg.respond(JSON.stringify({ outcome: 'duplicate' })),
    });
    await nc.flush();
    const answer = await (await as('operator')).request(redriveSubject(name), '{}', { timeout: 5_000 });
    expect(answer.json()).toEqual({ outcome: 'duplicate' });
    redrives.unsubscribe();
  });

  it('lets transfer publish its own events and nothing of inventory', async () => {
    const nc = await as('transfer');
    expect((await jetstream(nc).publish(transferSubject, '{}')).stream).toBe(EVENTS_STREAM);
    for (const subject of [stockSubject, reservationSubject, `live.${transferSubject}`]) {
      expect(await publishRefusal(nc, subject), subject).toMatch(/permissions violation/i);
    }
    expect(
      await publishRefusal(nc, `$JS.API.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.inventory-transfer-events`),
    ).toMatch(/permissions violation/i);
  });

  it('runs the gateway with its read-only user, and refuses it every publish of an event', async () => {
    const config = loadGatewayConfig({
      NATS_URL: server.url,
      NATS_USER: 'gateway',
      NATS_PASSWORD: PASSWORDS.gateway,
      JWT_SECRET: TEST_JWT_SECRET,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
    });
    gateway = await startGateway(config, { logger: testLogger('gateway') });
    const url = `ws://127.0.0.1:${gateway.port}/ws`;
    const client = await TestWsClient.connect(url, { token: await mintToken({}), query: { session: 's-1' } });
    await client.nextFrame('welcome');
    client.send({ type: 'subscribe', channel: 'product:p1' });
    const { cursor } = await client.waitFor(
      (frame) => frame.type === 'subscribed' && frame.channel === 'product:p1',
    );
    const js = jetstream(await as('inventory'));
    const event = stockEvent('inventory.updated', { productId: 'p1', warehouseId: 'w1' });
    await js.publish(subjectOf(event), JSON.stringify(event));
    // A live event (live.>), then a replay from a cursor (its own consumers) on a second connection.
    expect(await client.waitFor((frame) => frame.id === event.id)).toMatchObject({ channel: 'product:p1' });
    const resumed = await TestWsClient.connect(url, { token: await mintToken({}) });
    resumed.send({ type: 'subscribe', channel: 'product:p1', cursor });
    expect(
      await resumed.waitFor((frame) => frame.type === 'live' && frame.channel === 'product:p1'),
    ).toMatchObject({
      replayed: 1,
    });
    await Promise.all([client.close(), resumed.close()]);

    for (const subject of [
      stockSubject,
      transferSubject,
      `live.${stockSubject}`,
      `$JS.API.STREAM.DELETE.${EVENTS_STREAM}`,
      `$JS.API.STREAM.UPDATE.${EVENTS_STREAM}`,
      `$JS.API.STREAM.INFO.${DEAD_LETTERS_STREAM}`,
      deadLetterSubject('gateway', stockSubject),
    ]) {
      expect(await publishRefusal(gateway.nc, subject), subject).toMatch(/permissions violation/i);
    }
  });

  it('runs the webhook bridge with its user: endpoint consumers, deliveries and its own events, nothing else', async () => {
    webhooksDb = await createTestDatabase('webhooks_permissions');
    const config = loadWebhooksConfig({
      NATS_URL: server.url,
      NATS_USER: 'webhooks',
      NATS_PASSWORD: PASSWORDS.webhooks,
      DATABASE_URL: webhooksDb.url,
      JWT_SECRET: TEST_JWT_SECRET,
      PORT: '0',
      LOG_LEVEL: 'silent',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_RETRY_FOR_MS: '200',
      WEBHOOK_PAUSE_AFTER_DEAD_LETTERS: '1',
    });
    webhooks = await startWebhooksService(config, { logger: testLogger('webhooks') });
    await receiver.start();
    const token = await mintToken({ roles: ['admin'], warehouses: ['*'] });
    const registered = await fetchJson<{ endpointId: string }>(`${webhooks.url}/api/webhooks`, {
      method: 'POST',
      token,
      body: {
        url: receiver.url,
        eventTypes: ['inventory.low_stock'],
        warehouses: ['*'],
        secret: 'a-secret-of-at-least-16-chars',
      },
    });
    expect(registered.status).toBe(201);
    const { endpointId } = registered.body;
    const inventory = await as('inventory');
    // A delivery (its consumer created, fetched from and acked), then a failure that pauses the endpoint and
    // publishes the pause through the bridge's outbox.
    const delivered = await publishStockEvent(inventory, 'inventory.low_stock', 'w1');
    await eventually(() => receiver.uniqueIds().includes(delivered.id), { message: 'the delivery' });
    receiver.respond = () => 500;
    await publishStockEvent(inventory, 'inventory.low_stock', 'w1');
    const [paused] = await eventually(async () => {
      const stored = await readStoredEvents(await as('operator'), `webhooks.endpoint.${endpointId}.>`);
      return stored.length > 0 ? stored : null;
    });
    expect(paused!.event.type).toBe('webhooks.endpoint_paused');
    const removed = await fetchJson(`${webhooks.url}/api/webhooks/${endpointId}`, {
      method: 'DELETE',
      token,
    });
    expect(removed.status).toBe(204);

    for (const subject of [
      stockSubject,
      transferSubject,
      `live.webhooks.endpoint.${endpointId}.paused`,
      `$JS.API.STREAM.DELETE.${EVENTS_STREAM}`,
      `$JS.API.STREAM.UPDATE.${EVENTS_STREAM}`,
      `$JS.API.STREAM.PURGE.${EVENTS_STREAM}`,
      `$JS.API.STREAM.INFO.${DEAD_LETTERS_STREAM}`,
      deadLetterSubject('webhooks', stockSubject),
      ...Object.values(DURABLE_CONSUMERS).flatMap(({ name }) => [
        `$JS.API.CONSUMER.DELETE.${EVENTS_STREAM}.${name}`,
        `$JS.API.CONSUMER.CREATE.${EVENTS_STREAM}.${name}`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${EVENTS_STREAM}.${name}`,
        `$JS.API.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.${name}`,
        `$JS.ACK.${EVENTS_STREAM}.${name}.1.1.1.1.1`,
        redriveSubject(name),
      ]),
    ]) {
      expect(await publishRefusal(webhooks.nc, subject), subject).toMatch(/permissions violation/i);
    }
  });
});
