import {
  eventually,
  metricValue as metric,
  readStoredEvents,
  type Stack,
  startStack,
  TestWsClient,
} from '@inv/testkit';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adjustStorm, outboxDrained, sql } from './support.js';

/** 30 s in CI; `SOAK_SECONDS=600 npm run test:soak` for the 10-minute soak. */
const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const WRITERS = 8;
const PRODUCTS = 20;
const LISTENERS = 50;

interface Sample {
  at: number;
  inventoryRss: number;
  inventoryHeap: number;
  gatewayRss: number;
  gatewayHeap: number;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;

describe(`soak: ${SECONDS} s at benchmark-like load`, () => {
  let stack: Stack;
  let nc: NatsConnection;
  beforeAll(async () => {
    stack = await startStack();
    nc = await connect({ servers: stack.nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
  });

  it(
    'keeps memory flat, loses no event and leaks no connection',
    async () => {
      const token = await stack.token();
      const gateway = stack.gateways[0]!;
      const channelOf = (i: number) => `product:sk-${i % PRODUCTS}`;
      const listeners = await Promise.all(
        Array.from({ length: LISTENERS }, async (_, i) => {
          const client = await TestWsClient.connect(stack.gatewayUrl(), { token });
          client.send({ type: 'subscribe', channel: channelOf(i) });
          await client.waitFor((frame) => frame.type === 'subscribed' && frame.channel === channelOf(i), {
            timeoutMs: 30_000,
          });
          return client;
        }),
      );

      const samples: Sample[] = [];
      const started = Date.now();
      const deadline = started + SECONDS * 1000;
      let churned = 0;
      // Clients that come and go all the time: each must leave nothing behind.
      const churn = (async () => {
        while (Date.now() < deadline) {
          const batch = await Promise.all(
            Array.from({ length: 10 }, () => TestWsClient.connect(stack.gatewayUrl(), { token })),
          );
          for (const client of batch) client.send({ type: 'subscribe', channel: 'warehouse:wh-1' });
          await Promise.all(batch.map((client) => client.nextFrame('subscribed', { timeoutMs: 30_000 })));
          await Promise.all(batch.map((client, i) => (i % 2 ? client.close() : client.terminate())));
          churned += batch.length;
          // Ten a second: a steady coming and going, not a connection storm that starves the writers.
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      })();
      const sampler = (async () => {
        while (Date.now() < deadline) {
          samples.push({
            at: Date.now() - started,
            inventoryRss: await metric(stack.inventory.url, 'process_resident_memory_bytes'),
            inventoryHeap: await metric(stack.inventory.url, 'nodejs_heap_size_used_bytes'),
            gatewayRss: await metric(gateway.url, 'process_resident_memory_bytes'),
            gatewayHeap: await metric(gateway.url, 'nodejs_heap_size_used_bytes'),
          });
          await new Promise((resolve) => setTimeout(resolve, Math.max(1_000, (SECONDS * 1000) / 60)));
        }
      })();
      const storm = await adjustStorm({
        inventoryUrl: stack.inventory.url,
        token,
        writers: WRITERS,
        records: PRODUCTS,
        prefix: 'sk',
        until: () => Date.now() >= deadline,
      });
      await Promise.all([churn, sampler]);
      expect(storm.unclean).toEqual([]);
      expect(storm.applied).toBeGreaterThan(SECONDS * 20);

      // No event lost: each listener got every event of its product once, in stream order.
      await outboxDrained(stack.databases.inventory.url);
      let checked = 0;
      for (let p = 0; p < PRODUCTS; p++) {
        const stored = (await readStoredEvents(nc, `inventory.product.sk-${p}.>`)).map((s) => s.event.id);
        for (let i = p; i < LISTENERS; i += PRODUCTS) {
          const frames = await listeners[i]!.waitForEvents(channelOf(i), stored.length, {
            timeoutMs: 60_000,
          });
          expect(frames.map((frame) => frame.id)).toEqual(stored);
          checked += frames.length;
        }
      }

      // No connection leak: the gateway counts only the listeners, the database only the pool.
      await eventually(
        async () => (await metric(gateway.url, 'gateway_connections', 'endpoint="/ws"')) === LISTENERS,
        { timeoutMs: 20_000, message: `gateway_connections back to ${LISTENERS}` },
      );
      const [pg] = await sql<{ n: number }>(
        stack.databases.inventory.url,
        `select count(*)::int as n from pg_stat_activity where datname = current_database()`,
      );
      expect(pg?.n).toBeLessThanOrEqual(15);

      // Memory flat: the first third is warm-up; the last third peaks no higher than the middle one, with slack.
      const third = Math.max(1, Math.floor(samples.length / 3));
      const peak = (from: Sample[], key: keyof Sample) => Math.max(...from.map((s) => s[key]));
      const early = samples.slice(third, 2 * third);
      const late = samples.slice(-third);
      for (const key of ['inventoryRss', 'gatewayRss'] as const) {
        expect(peak(late, key), key).toBeLessThanOrEqual(peak(early, key) * 1.3 + 30 * 1024 * 1024);
      }
      await Promise.all(listeners.map((client) => client.close()));
      console.log(
        `reliability: soak ${SECONDS}s, ${storm.applied} adjusts, ${churned} connections churned, ${checked} deliveries checked, 0 lost; ` +
          `RSS inventory ${mb(peak(early, 'inventoryRss'))}→${mb(peak(late, 'inventoryRss'))} MB ` +
          `(heap ${mb(peak(early, 'inventoryHeap'))}→${mb(peak(late, 'inventoryHeap'))} MB), ` +
          `gateway ${mb(peak(early, 'gatewayRss'))}→${mb(peak(late, 'gatewayRss'))} MB ` +
          `(heap ${mb(peak(early, 'gatewayHeap'))}→${mb(peak(late, 'gatewayHeap'))} MB), ${pg?.n} db connections`,
      );
    },
    (SECONDS + 240) * 1000,
  );
});
