import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { now, Samples, type Summary } from './stats.js';

const PROBE_STREAM = 'BENCH_ACK_PROBE';
const PROBE_SUBJECT = 'bench.ack-probe';

export interface AckProbe {
  /** Stops publishing and summarises each publish's round trip to its ack (ms). */
  stop(): Promise<Summary>;
}

/**
 * One JetStream publish at a time, `perSecond` of them, on a file-backed stream of their own on the same server:
 * while a benchmark loads the machine, a publish's round trip to its ack is the floor under what any one outbox
 * publish can take, whatever the relay does around it.
 */
export async function startAckProbe(nc: NatsConnection, perSecond = 100): Promise<AckProbe> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams
    .add({ name: PROBE_STREAM, subjects: [PROBE_SUBJECT], storage: StorageType.File, max_msgs: 10_000 })
    .catch(async () => jsm.streams.info(PROBE_STREAM)); // already there from an earlier row
  const js = jetstream(nc);
  const samples = new Samples();
  const started = now();
  let stopped = false;
  const running = (async () => {
    for (let i = 0; !stopped; i++) {
      const sent = now();
      // A publish that gets no ack (a timeout under load) counts with the time it waited, not as the end of the
      // benchmark row it runs beside.
      await js.publish(PROBE_SUBJECT, '{}', { msgID: `probe-${started}-${i}` }).catch(() => undefined);
      samples.push(now() - sent);
      const wait = started + ((i + 1) * 1000) / perSecond - now();
      if (wait > 0) await sleep(wait);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      return samples.summary();
    },
  };
}
