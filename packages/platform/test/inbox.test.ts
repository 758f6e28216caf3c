import { type DomainEvent, subjectOf } from '@inv/contracts';
import { eventually, testLogger } from '@inv/testkit';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InboxConsumer } from '../src/index.js';
import { type PlatformFixture, platformFixture, scalar, stockEvent } from './support.js';

describe('inbox consumer', () => {
  let f: PlatformFixture;
  beforeAll(async () => {
    f = await platformFixture();
    await f.orm.em.fork().execute('create table applied (event_id uuid not null, version int not null)');
  });
  afterAll(async () => f?.close());

  const consumer = (handle?: ConstructorParameters<typeof InboxConsumer>[0]['handle']) =>
    new InboxConsumer({
      nc: f.nc,
      orm: f.orm,
      logger: testLogger(),
      durable: { name: 'test-inbox', filterSubject: 'inventory.product.>' },
      handle:
        handle ??
        (async (em, event) => {
          await em.execute('insert into applied values (?, ?)', [event.id, event.aggregate.version]);
        }),
    });
  /** Publishes the event under a fresh message id, so the stream's de-duplication does not drop the copy. */
  const publishCopy = async (event: DomainEvent, copy: number) =>
    jetstream(f.nc).publish(subjectOf(event), JSON.stringify(event), { msgID: `${event.id}-copy-${copy}` });
  const applied = async () =>
    (
      await f.orm.em
        .fork()
        .execute<{ event_id: string; version: number }[]>('select * from applied order by version')
    ).map((r) => r.version);

  it('applies each event exactly once even when it is delivered again, across a restart', async () => {
    const first = consumer();
    await first.start();
    const events = [1, 2, 3].map((v) => stockEvent('inbox-rec', v));
    for (const e of events) await publishCopy(e, 1);
    await eventually(async () => (await applied()).length === 3);
    await first.stop();

    for (const e of events) await publishCopy(e, 2);
    const fourth = stockEvent('inbox-rec', 4);
    await publishCopy(fourth, 1);
    const second = consumer();
    await second.start();
    await eventually(async () => (await applied()).length === 4);
    await second.stop();
    expect(await applied()).toEqual([1, 2, 3, 4]);
    expect(await scalar(f.orm, 'select count(*) from inbox where consumer = ?', ['test-inbox'])).toBe(4);
  });

  it('rolls back the effects of a failing handler and applies the event on redelivery', async () => {
    let calls = 0;
    const flaky = consumer(async (em, event) => {
      await em.execute('insert into applied values (?, ?)', [event.id, event.aggregate.version]);
      if (++calls === 1) throw new Error('transient failure');
    });
    await flaky.start();
    await publishCopy(stockEvent('inbox-rec', 5), 1);
    await eventually(async () => (await applied()).includes(5), { timeoutMs: 15_000 });
    await flaky.stop();
    expect(calls).toBe(2);
    expect((await applied()).filter((v) => v === 5)).toHaveLength(1);
  });

  it('sets aside a message that is not a valid event and goes on with the next', async () => {
    const c = consumer();
    await c.start();
    await jetstream(f.nc).publish(
      'inventory.product.x.warehouse.w.variant._.uom._.updated',
      '{"not":"an event"}',
    );
    await publishCopy(stockEvent('inbox-rec', 6), 1);
    await eventually(async () => (await applied()).includes(6));
    await c.stop();
  });
});
