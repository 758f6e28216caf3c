import { startTestNats, type TestNats } from '@inv/testkit';
import {
  AckPolicy,
  DiscardPolicy,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionWatch } from '../src/index.js';

const STREAM = 'RETENTION_TEST';

describe('retention watch', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  // biome-ignore lint/suspicious/noExplicitAny: log lines are loose JSON
  const logLines: any[] = [];
  const registry = new Registry();
  let watch: RetentionWatch;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAM, subjects: ['ret.>'], max_msgs: 10, discard: DiscardPolicy.Old });
    await jsm.consumers.add(STREAM, {
      durable_name: 'slow',
      filter_subject: 'ret.>',
      ack_policy: AckPolicy.Explicit,
    });
    watch = new RetentionWatch({
      jsm: async () => jsm,
      logger: pino({ level: 'warn' }, { write: (line: string) => void logLines.push(JSON.parse(line)) }),
      registry,
      stream: STREAM,
      consumers: ['slow'],
      intervalMs: 0,
    });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  const publish = async (n: number) => {
    for (let i = 0; i < n; i++) await jetstream(nc).publish('ret.x', 'e');
  };
  const gauge = async () => {
    const metric = await registry.getSingleMetric('consumer_retention_pressure')!.get();
    return metric.values[0]?.value;
  };

  it('is calm while the backlog is small, warns at 80 % of a limit, and reports messages the stream discarded', async () => {
    await publish(5);
    const [calm] = await watch.check();
    expect(calm).toMatchObject({ unprocessed: 5, messages: 0.5, status: 'ok', lost: 0 });
    expect(logLines).toHaveLength(0);

    await publish(4);
    const [warning] = await watch.check();
    expect(warning).toMatchObject({ unprocessed: 9, status: 'warning' });
    expect(warning!.pressure).toBeCloseTo(0.9);
    expect(await gauge()).toBeCloseTo(0.9);
    expect(logLines.at(-1)).toMatchObject({ level: 40, consumer: 'slow', status: 'warning' });
    expect(logLines.at(-1).msg).toContain('90 %');

    await publish(3); // the stream keeps 10: the consumer's 2 oldest are gone
    const [lost] = await watch.check();
    expect(lost).toMatchObject({ status: 'lost', lost: 2 });
    expect(await gauge()).toBe(Infinity);
    expect(logLines.at(-1)).toMatchObject({ level: 50, lost: 2 });
  });

  it('is back to zero once the consumer caught up', async () => {
    const consumer = await jetstream(nc).consumers.get(STREAM, 'slow');
    for (;;) {
      const msg = await consumer.next({ expires: 1_000 });
      if (!msg) break;
      await msg.ackAck();
      if (msg.info.pending === 0) break;
    }
    const [caughtUp] = await watch.check();
    expect(caughtUp).toMatchObject({ unprocessed: 0, pressure: 0, status: 'ok' });
    expect(await gauge()).toBe(0);
  });
});
