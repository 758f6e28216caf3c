import { WS_CLOSE } from '@inv/contracts';
import { fetchJson } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, gatewayFixture, ids, stockEvent, subscribe } from './support.js';

const metric = async (f: GatewayFixture, instance: number, name: string) => {
  const text = (await fetchJson<string>(`${f.httpUrl(instance)}/metrics`)).body;
  return Number(new RegExp(`^${name}\\{service="gateway"\\} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
};

describe('connection limits', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture();
  });
  afterAll(async () => f?.close());

  it('closes a client that does not read with 4429 while the others on the channel stay on time', async () => {
    const gateway = await f.startGateway({ WS_MAX_SEND_QUEUE_BYTES: String(64 * 1024) });
    const instance = f.gateways.indexOf(gateway);
    const slow = await f.client({ instance });
    const normal = await f.client({ instance });
    await subscribe(slow, 'product:firehose');
    await subscribe(normal, 'product:firehose');
    slow.pause();

    const published = [];
    const big = 'x'.repeat(8 * 1024);
    for (
      let round = 0;
      round < 50 && (await metric(f, instance, 'gateway_slow_consumer_closes_total')) === 0;
      round++
    ) {
      const events = Array.from({ length: 50 }, () =>
        stockEvent('inventory.updated', { productId: 'firehose', warehouseId: 'w1' }, { reason: big }),
      );
      await f.publish(...events);
      published.push(...events);
      // The reading client keeps up with every round.
      await normal.waitForEvents('product:firehose', published.length);
    }
    expect(await metric(f, instance, 'gateway_slow_consumer_closes_total')).toBe(1);
    expect(ids(normal.events('product:firehose'))).toEqual(ids(published));
    slow.resume();
    expect((await slow.closed).code).toBe(WS_CLOSE.slowConsumer);
    expect(slow.events().length).toBeLessThan(published.length);
    expect(normal.isClosed).toBe(false);
  });

  it('pings idle clients and closes one that stops answering with 4408', async () => {
    const gateway = await f.startGateway({ HEARTBEAT_MS: '100' });
    const instance = f.gateways.indexOf(gateway);
    const answering = await f.client({ instance });
    const silent = await f.client({ instance, autoPong: false });
    expect((await silent.closed).code).toBe(WS_CLOSE.heartbeatTimeout);
    // The answering client, idle just as long, is still there.
    answering.send({ type: 'ping' });
    await answering.nextFrame('pong');
    expect(answering.isClosed).toBe(false);
    expect(await metric(f, instance, 'gateway_heartbeat_closes_total')).toBe(1);
  });

  it('answers messages over the rate with RATE_LIMITED and keeps the connection', async () => {
    const client = await f.client();
    await client.nextFrame('welcome');
    for (let i = 0; i < 120; i++) client.send({ type: 'ping', requestId: `p${i}` });
    const answers = await client.waitForCount(
      (frame) => frame.type === 'pong' || frame.type === 'error',
      120,
    );
    const limited = answers.filter((frame) => frame.type === 'error');
    expect(limited.length).toBeGreaterThanOrEqual(60);
    expect(limited.every((frame) => frame.code === 'RATE_LIMITED')).toBe(true);
    expect(answers.filter((frame) => frame.type === 'pong').length).toBeGreaterThanOrEqual(50);
    expect(client.isClosed).toBe(false);
  });

  it('disconnects a client that keeps flooding with 1008', async () => {
    const client = await f.client();
    await client.nextFrame('welcome');
    for (let i = 0; i < 3_000; i++) client.send({ type: 'ping' });
    expect((await client.closed).code).toBe(WS_CLOSE.policyViolation);
  });
});
