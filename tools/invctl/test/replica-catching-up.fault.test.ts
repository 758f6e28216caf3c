import { EVENTS_STREAM } from '@inv/contracts';
import { ensureEventsStream } from '@inv/platform';
import { NatsCluster, publishMany, restartFollowerBehind } from '@inv/testkit';
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../src/lib/nats.js';
import { openReader } from '../src/lib/reader.js';

const ON_A = 'inventory.product.ia.warehouse.w1';
const ON_B = 'inventory.product.ib.warehouse.w1';
const WHILE_DOWN = 20_000;
const READS = 12;

/**
 * An ordered consumer lands on any replica of the stream; one that has just come back reports "nothing
 * pending" for what it has not caught up on. Before the fix, a replay placed there ended thousands of events early.
 */
describe('invctl reading a clustered stream while a replica catches up', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    cluster = await NatsCluster.start(3, 'invctl-catchup');
    nc = await connect({ servers: cluster.servers, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    jsm = await jetstreamManager(nc);
    await ensureEventsStream(jsm, { replicas: 3 });
  }, 120_000);
  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  async function replay(filter: string, since?: Date): Promise<number> {
    const broker: Broker = { nc, js: jetstream(nc), jsm };
    const reader = await openReader(broker, EVENTS_STREAM, { filters: [filter], label: filter, since });
    let count = 0;
    for await (const _ of reader.messages) count++;
    return count;
  }

  it('replays every event of the stream, of one subject and since a time, whichever replica serves it', async () => {
    const js = jetstream(nc);
    const subjectOf = (i: number) => (i % 2 ? ON_B : ON_A);
    await publishMany(js, 1_000, subjectOf);
    const since = new Date();
    let end = 0;
    await restartFollowerBehind(cluster, nc, EVENTS_STREAM, async () => {
      await publishMany(js, WHILE_DOWN, subjectOf);
      end = (await jsm.streams.info(EVENTS_STREAM)).state.last_seq;
    });

    const [counts, countsSince] = await Promise.all([
      Promise.all(Array.from({ length: READS }, (_, i) => replay(i % 2 ? '>' : ON_A))),
      // `--since` a moment before the node went down: what it missed, found from a replica that lacks it.
      Promise.all(Array.from({ length: READS }, () => replay('>', since))),
    ]);
    expect(end).toBe(1_000 + WHILE_DOWN);
    expect(counts).toEqual(Array.from({ length: READS }, (_, i) => (i % 2 ? end : end / 2)));
    expect(countsSince).toEqual(Array.from({ length: READS }, () => WHILE_DOWN));
  }, 120_000);
});
