import { EVENTS_STREAM } from '@inv/contracts';
import { type EventsCluster, publishMany, restartFollowerBehind, startEventsCluster } from '@inv/testkit';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsStreamReader } from '../src/infra/nats/stream-reader.js';

const ON_A = 'inventory.product.ra.warehouse.w1';
const ON_B = 'inventory.product.rb.warehouse.w1';
const WHILE_DOWN = 20_000;
const READS = 24;

/**
 * A read consumer (R1) lands on any replica of the stream, and a replica that has just come back reports only
 * what it has caught up on: "nothing pending" there is not the end of the range. Before the fix, the reads
 * placed on the restarted node ended thousands of messages early, and the gateway skipped what they missed.
 */
describe('reading the stream while a replica catches up', () => {
  let events: EventsCluster;
  beforeAll(async () => {
    events = await startEventsCluster('catchup');
  }, 120_000);
  afterAll(async () => events?.stop());

  async function readAll(filter: string, toSeq: number): Promise<number[]> {
    const seqs: number[] = [];
    await natsStreamReader(jetstream(events.nc), events.jsm).read({
      filters: [filter],
      fromSeq: 1,
      toSeq,
      onMessage: (message) => {
        seqs.push(message.seq);
      },
      stopped: () => false,
    });
    return seqs;
  }

  it('reads every message up to the end it was given, on every replica', async () => {
    const js = jetstream(events.nc);
    const subjectOf = (i: number) => (i % 2 ? ON_B : ON_A);
    await publishMany(js, 1_000, subjectOf);
    let end = 0;
    await restartFollowerBehind(events.cluster, events.nc, EVENTS_STREAM, async () => {
      await publishMany(js, WHILE_DOWN, subjectOf);
      end = (await events.jsm.streams.info(EVENTS_STREAM)).state.last_seq;
    });

    const reads = await Promise.all(
      Array.from({ length: READS }, (_, i) => readAll(i % 2 ? '>' : ON_A, end)),
    );
    const everything = Array.from({ length: end }, (_, i) => i + 1);
    const onA = everything.filter((seq) => seq % 2 === 1);
    const short = reads
      .map((seqs, i) => ({ filter: i % 2 ? '>' : ON_A, got: seqs.length, want: i % 2 ? end : onA.length }))
      .filter((read) => read.got !== read.want);
    expect(short).toEqual([]);
    for (const [i, seqs] of reads.entries()) expect(seqs).toEqual(i % 2 ? everything : onA);
  }, 120_000);
});
