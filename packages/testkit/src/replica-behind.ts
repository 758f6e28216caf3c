import { randomUUID } from 'node:crypto';
import { ensureEventsStream } from '@inv/platform';
import { type JetStreamClient, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { NatsCluster } from './nats-server.js';

export interface EventsCluster {
  cluster: NatsCluster;
  /** Follows the cluster through a node's death. */
  nc: NatsConnection;
  jsm: JetStreamManager;
  stop(): Promise<void>;
}

/** A 3-node cluster with the EVENTS stream on all three nodes (R3), and a connection that follows it. */
export async function startEventsCluster(name: string): Promise<EventsCluster> {
  const cluster = await NatsCluster.start(3, name);
  const nc = await connect({ servers: cluster.servers, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const jsm = await jetstreamManager(nc);
  await ensureEventsStream(jsm, { replicas: 3 });
  return {
    cluster,
    nc,
    jsm,
    async stop() {
      await nc.close();
      await cluster.stop();
    },
  };
}

/**
 * Publishes `count` small messages, `subjectOf(i)` each, a window of a thousand in flight at a time. A publish
 * that times out (a busy cluster) is sent again under the same message id, so each is stored once.
 */
export async function publishMany(
  js: JetStreamClient,
  count: number,
  subjectOf: (i: number) => string,
): Promise<void> {
  const batch = randomUUID();
  const publishOne = async (i: number) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await js.publish(subjectOf(i), '{}', { msgID: `${batch}-${i}` });
      } catch (error) {
        if (attempt >= 5) throw error;
      }
    }
  };
  for (let i = 0; i < count; i += 1_000) {
    const window = [];
    for (let j = i; j < Math.min(count, i + 1_000); j++) window.push(publishOne(j));
    await Promise.all(window);
  }
}

/**
 * Kills one follower of `stream` with -9, runs `whileDown` (publishing what it will miss), and starts it again
 * without waiting for it to catch up: for about a second it is a replica behind the stream, on which the
 * server places consumers like on any other. The follower killed is not the meta leader, whose election would
 * hold up every consumer's creation meanwhile.
 */
export async function restartFollowerBehind(
  cluster: NatsCluster,
  nc: NatsConnection,
  stream: string,
  whileDown: () => Promise<void>,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const metaLeader = await cluster.metaLeader();
  const followers = (await jsm.streams.info(stream)).cluster?.replicas ?? [];
  const follower = followers.find((replica) => replica.name !== metaLeader)?.name;
  const node = cluster.nodes.find((n) => n.name === follower);
  if (!node) throw new Error(`stream ${stream} has no follower among the cluster's nodes`);
  await node.kill('SIGKILL');
  await whileDown();
  await node.launch();
}
