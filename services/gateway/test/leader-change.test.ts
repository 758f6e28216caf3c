import { EVENTS_STREAM } from '@inv/contracts';
import {
  eventually,
  fetchJson,
  mintToken,
  NatsCluster,
  TEST_JWT_SECRET,
  TestWsClient,
  testLogger,
} from '@inv/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, loadGatewayConfig, startGateway } from '../src/index.js';
import { ids, publishAll, stockEvent, subscribe } from './support.js';

const backfills = async (gateway: Gateway) => {
  const text = (await fetchJson<string>(`${gateway.url}/metrics`)).body;
  return Number(/^gateway_backfills_total\{service="gateway"\} (\d+)/m.exec(text)?.[1] ?? Number.NaN);
};

/**
 * RePublish is at most once, from the stream leader: a live message can be lost when the leader changes while
 * the gateway's own connection stays up. A new leader makes the gateway fill its channels from the stream.
 */
describe('a stream leader change under a running gateway', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let gateway: Gateway;
  beforeAll(async () => {
    cluster = await NatsCluster.start(3, 'leader');
    gateway = await startGateway(
      loadGatewayConfig({
        NATS_URL: cluster.servers.join(','),
        STREAM_REPLICAS: '3',
        JWT_SECRET: TEST_JWT_SECRET,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
      }),
      { logger: testLogger('gateway') },
    );
    nc = await connect({ servers: cluster.servers });
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await nc?.close();
    await cluster?.stop();
  });

  it('fills every live channel from the stream, delivering each event once', async () => {
    const client = await TestWsClient.connect(`ws://127.0.0.1:${gateway.port}/ws`, {
      token: await mintToken({ warehouses: ['*'], roles: ['viewer'] }),
    });
    await subscribe(client, 'product:lc');
    const js = jetstream(nc);
    const before = [stockEvent('inventory.updated', { productId: 'lc', warehouseId: 'w1' })];
    await publishAll(js, before);
    await client.waitForEvents('product:lc', 1);
    const filledBefore = await backfills(gateway);

    const jsm = await jetstreamManager(nc);
    const leader = (await jsm.streams.info(EVENTS_STREAM)).cluster?.leader;
    await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${EVENTS_STREAM}`, undefined, { timeout: 10_000 });
    await eventually(async () => (await jsm.streams.info(EVENTS_STREAM)).cluster?.leader !== leader, {
      message: 'a new stream leader',
      timeoutMs: 30_000,
    });
    await eventually(async () => (await backfills(gateway)) > filledBefore, {
      message: 'the gateway to fill its channels after the leader change',
      timeoutMs: 30_000,
    });

    const after = [stockEvent('inventory.updated', { productId: 'lc', warehouseId: 'w1' })];
    await eventually(async () => (await publishAll(js, after)).length === 1, { timeoutMs: 30_000 });
    await client.waitForEvents('product:lc', 2);
    expect(ids(client.events('product:lc'))).toEqual(ids([...before, ...after]));
    await client.terminate();
  });
});
