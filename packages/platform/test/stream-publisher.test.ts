import { EVENTS_STREAM } from '@inv/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { headers, TimeoutError } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamPublishError, StreamPublisher } from '../src/nats/stream-publisher.js';
import { type PlatformFixture, platformFixture } from './support.js';

const withId = (id: string) => {
  const h = headers();
  h.set('Nats-Msg-Id', id);
  return h;
};

describe('StreamPublisher', () => {
  let f: PlatformFixture;
  let publisher: StreamPublisher;
  beforeAll(async () => {
    f = await platformFixture();
    publisher = new StreamPublisher(f.nc, 1_000);
  });
  afterAll(async () => {
    publisher?.close();
    await f?.close();
  });

  it('resolves with the stream sequence the message was stored at, in the order published', async () => {
    const seqs = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        publisher.publish('inventory.publisher.order', `{"n":"${id}"}`, withId(`order-${id}`)),
      ),
    );
    expect(seqs[1]).toBe(seqs[0]! + 1);
    expect(seqs[2]).toBe(seqs[0]! + 2);
    const jsm = await jetstreamManager(f.nc);
    const stored = await jsm.streams.getMessage(EVENTS_STREAM, { seq: seqs[2]! });
    expect(stored?.header.get('Nats-Msg-Id')).toBe('order-c');
    expect(stored?.string()).toBe('{"n":"c"}');
  });

  it('answers a duplicate Nats-Msg-Id with the first message sequence and stores nothing more', async () => {
    const first = await publisher.publish('inventory.publisher.dup', '{}', withId('dup-1'));
    const again = await publisher.publish('inventory.publisher.dup', '{}', withId('dup-1'));
    expect(again).toBe(first);
    const jsm = await jetstreamManager(f.nc);
    const info = await jsm.streams.info(EVENTS_STREAM);
    expect(info.state.last_seq).toBe(first);
  });

  it('refuses a subject no stream takes, as no responders', async () => {
    const refused = await publisher.publish('nowhere.publisher', '{}', withId('none-1')).catch((e) => e);
    expect(refused).toBeInstanceOf(StreamPublishError);
    expect((refused as StreamPublishError).noResponders).toBe(true);
  });

  it('refuses what the stream refuses, with its reason', async () => {
    const h = withId('expected-1');
    h.set('Nats-Expected-Stream', 'ANOTHER');
    const refused = await publisher.publish('inventory.publisher.refused', '{}', h).catch((e) => e);
    expect(refused).toBeInstanceOf(StreamPublishError);
    expect((refused as Error).message).toMatch(/expected stream does not match/);
  });

  it('times out when nothing acks', async () => {
    // A plain subscriber takes the subject and never answers: no stream, but responders, so no 503.
    const silent = f.nc.subscribe('silent.publisher');
    const quick = new StreamPublisher(f.nc, 100);
    const timedOut = await quick.publish('silent.publisher', '{}', withId('silent-1')).catch((e) => e);
    expect(timedOut).toBeInstanceOf(TimeoutError);
    quick.close();
    silent.unsubscribe();
  });

  it('refuses what is pending when closed', async () => {
    const silent = f.nc.subscribe('silent.closed');
    const closing = new StreamPublisher(f.nc, 10_000);
    const pending = closing.publish('silent.closed', '{}', withId('closed-1')).catch((e) => e);
    await f.nc.flush();
    closing.close();
    expect(await pending).toBeInstanceOf(StreamPublishError);
    silent.unsubscribe();
  });
});
