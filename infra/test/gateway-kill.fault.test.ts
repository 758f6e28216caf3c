import { eventually, readStoredEvents, type Stack, startStack, TestWsClient } from '@inv/testkit';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adjustStorm, outboxDrained } from './support.js';

const CLIENTS = 100;
const PRODUCTS = 10;

describe('kill -9 of a gateway with 100 connected clients while events flow', () => {
  let stack: Stack;
  let nc: NatsConnection;
  const clients: TestWsClient[] = [];
  beforeAll(async () => {
    stack = await startStack({ gateways: 2 });
    nc = await connect({ servers: stack.nats.url });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.terminate()));
    await nc?.close();
    await stack?.stop();
  });

  it('resumes every client on the second gateway from its cursor with no gap and no duplicate', async () => {
    const token = await stack.token();
    const channelOf = (i: number) => `product:gk-${i % PRODUCTS}`;
    const first = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const client = await TestWsClient.connect(stack.gatewayUrl(0), { token });
        client.send({ type: 'subscribe', channel: channelOf(i) });
        await client.waitFor((frame) => frame.type === 'subscribed' && frame.channel === channelOf(i), {
          timeoutMs: 30_000,
        });
        return client;
      }),
    );
    clients.push(...first);

    let stop = false;
    let appliedAfterResume = 0;
    let resumed = false;
    const storm = adjustStorm({
      inventoryUrl: stack.inventory.url,
      token,
      writers: 4,
      records: PRODUCTS,
      prefix: 'gk',
      until: () => stop,
      onReply: (reply) => {
        if (resumed && reply.status === 200) appliedAfterResume++;
      },
    });
    // Events flowing to every client, then the crash.
    await eventually(() => first.every((client) => client.events().length >= 5), {
      timeoutMs: 60_000,
      message: 'every client to receive events',
    });
    await stack.gateways[0]!.kill('SIGKILL');
    const closes = await Promise.all(first.map((client) => client.closed));
    expect(closes.every((close) => close.code === 1006)).toBe(true);

    const second = await Promise.all(
      first.map(async (old, i) => {
        const cursor = old.events(channelOf(i)).at(-1)!.cursor!;
        const client = await TestWsClient.connect(stack.gatewayUrl(1), { token });
        client.send({ type: 'subscribe', channel: channelOf(i), cursor });
        await client.waitFor((frame) => frame.type === 'live' && frame.channel === channelOf(i), {
          timeoutMs: 60_000,
          description: `resume of client ${i}`,
        });
        return client;
      }),
    );
    clients.push(...second);
    resumed = true;
    await eventually(() => appliedAfterResume >= 300, {
      timeoutMs: 60_000,
      message: 'events after the resume',
    });
    stop = true;
    const result = await storm;
    expect(result.unclean).toEqual([]);

    await outboxDrained(stack.databases.inventory.url);
    let checked = 0;
    for (let p = 0; p < PRODUCTS; p++) {
      const stored = (await readStoredEvents(nc, `inventory.product.gk-${p}.>`)).map((s) => s.event.id);
      for (let i = p; i < CLIENTS; i += PRODUCTS) {
        const before = first[i]!.events(channelOf(i)).map((frame) => frame.id);
        const after = await second[i]!.waitForEvents(channelOf(i), stored.length - before.length, {
          timeoutMs: 60_000,
        });
        const seen = [...before, ...after.map((frame) => frame.id)];
        expect(seen).toEqual(stored);
        checked += seen.length;
      }
    }
    console.log(
      `reliability: gateway-kill ${CLIENTS} clients, 1 kill -9, ${CLIENTS} resumed on the second gateway, ${checked} deliveries checked, 0 gaps, 0 duplicates`,
    );
  });
});
