import { EVENTS_STREAM } from '@inv/contracts';
import { type EventsCluster, publishMany, restartFollowerBehind, startEventsCluster } from '@inv/testkit';
import { jetstream } from '@nats-io/jetstream';
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
  let events: EventsCluster;
  beforeAll(async () => {
    events = await startEventsCluster('invctl-catchup');
  }, 120_000);
  afterAll(async () => events?.stop());

  async function replay(filter: string, since?: Date): Promise<number> {
    const broker: Broker = { nc: events.nc, js: jetstream(events.nc), jsm: events.jsm };
    const reader = await openReader(broker, EVENTS_STREAM, { filters: [filter], label: filter, since });
    let count = 0;
    for await (const _ of reader.messages) count++;
    return count;
  }

  it('replays every event of the stream, of one subject and since a time, whichever replica serves it', async () => {
    const js = jetstream(events.nc);
    const subjectOf = (i: number) => (i % 2 ? ON_B : ON_A);
    await publishMany(js, 1_000, subjectOf);
    const since = new Date();
    let end = 0;
    await restartFollowerBehind(events.cluster, events.nc, EVENTS_STREAM, async () => {
      await publishMany(js, WHILE_DOWN, subjectOf);
      end = (await events.jsm.streams.info(EVENTS_STREAM)).state.last_seq;
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
