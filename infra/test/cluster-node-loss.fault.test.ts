import { EVENTS_STREAM } from '@inv/contracts';
import { eventually, NatsCluster, type Stack, startStack, TestWsClient } from '@inv/testkit';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adjustStorm,
  checkStockEvents,
  outboxDrained,
  ready,
  sql,
  storedEventsOnceAnswered,
} from './support.js';

const WRITERS = 10;
const ADJUSTS = 2_000;

describe('a 3-node NATS cluster with R3 streams losing a node under load', () => {
  let cluster: NatsCluster;
  let stack: Stack;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    cluster = await NatsCluster.start(3, 'rel');
    stack = await startStack({ natsUrl: cluster.servers.join(','), env: { STREAM_REPLICAS: '3' } });
    nc = await connect({ servers: cluster.servers, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await Promise.all(cluster?.nodes.map((node) => node.launch()) ?? []);
    await nc?.close();
    await stack?.stop();
    await cluster?.stop();
  });

  it('keeps publishing and delivering with the stream leader killed, loses nothing, and the node rejoins', async () => {
    const info = await jsm.streams.info(EVENTS_STREAM);
    expect(info.config.num_replicas).toBe(3);
    const leader = cluster.nodes.find((node) => node.name === info.cluster?.leader)!;
    expect(leader).toBeDefined();

    const watcher = await TestWsClient.connect(stack.gatewayUrl(), { token: await stack.token() });
    watcher.send({ type: 'subscribe', channel: 'warehouse:wh-1' });
    await watcher.nextFrame('subscribed', { timeoutMs: 20_000 });

    let killed: Promise<void> | null = null;
    const storm = await adjustStorm({
      inventoryUrl: stack.inventory.url,
      token: await stack.token(),
      writers: WRITERS,
      perWriter: ADJUSTS / WRITERS,
      records: WRITERS,
      prefix: 'cl',
      onReply: (_reply, done) => {
        if (done === 500) killed = leader.kill('SIGKILL');
      },
    });
    await killed;
    expect(leader.running).toBe(false);
    expect(storm.unclean).toEqual([]);
    expect(storm.applied).toBe(ADJUSTS);

    // With one node of three down: everything published, stored once and in order, and delivered.
    await outboxDrained(stack.databases.inventory.url);
    const stored = await storedEventsOnceAnswered(nc, 'inventory.>');
    const checked = checkStockEvents(stored, storm.appliedPer);
    expect(checked).toBe(ADJUSTS);
    const [ledger] = await sql<{ n: number }>(
      stack.databases.inventory.url,
      'select count(*)::int as n from inventory_movement',
    );
    expect(ledger?.n).toBe(ADJUSTS);
    const frames = await watcher
      .waitForEvents('warehouse:wh-1', stored.length, { timeoutMs: 60_000 })
      .catch((error: Error) => {
        const got = new Set(watcher.events().map((frame) => frame.id));
        const missing = stored.filter((s) => !got.has(s.event.id)).map((s) => s.seq);
        const log = stack.gateways[0]!.output().slice(-3_000);
        throw new Error(
          `${error.message}; sequences not delivered: ${missing.slice(0, 50).join(',')}; ${log}`,
        );
      });
    expect(frames.map((frame) => frame.id)).toEqual(stored.map((s) => s.event.id));
    for (const service of [stack.inventory, stack.transfer, ...stack.gateways]) await ready(service.url);

    // The node comes back and catches up as a current replica.
    await leader.launch();
    await eventually(
      async () => {
        const replicas = (await jsm.streams.info(EVENTS_STREAM)).cluster?.replicas ?? [];
        const back = replicas.find((replica) => replica.name === leader.name);
        return back?.current === true && !back.offline;
      },
      { timeoutMs: 60_000, intervalMs: 250, message: `${leader.name} to rejoin as a current replica` },
    );
    await watcher.close();
    console.log(
      `reliability: cluster-node-loss ${ADJUSTS} adjusts, stream leader killed, ${checked} events checked, ${frames.length} delivered, 0 lost, node rejoined`,
    );
  });
});
