import {
  DEAD_LETTERS_STREAM,
  type DomainEvent,
  EVENTS_STREAM,
  type RedriveReply,
  redriveSubject,
  subjectOf,
} from '@inv/contracts';
import { eventually, testLogger } from '@inv/testkit';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InboxConsumer, PermanentEventError } from '../src/index.js';
import { type PlatformFixture, platformFixture, scalar, stockEvent } from './support.js';

describe('inbox consumer', () => {
  let f: PlatformFixture;
  beforeAll(async () => {
    f = await platformFixture();
    await f.orm.em.fork().execute('create table applied (event_id uuid not null, version int not null)');
  });
  afterAll(async () => f?.close());

  const consumer = (handle?: ConstructorParameters<typeof InboxConsumer>[0]['handle'], ackWaitMs?: number) =>
    new InboxConsumer({
      nc: f.nc,
      orm: f.orm,
      logger: testLogger(),
      service: 'test',
      durable: { name: 'test-inbox', filterSubject: 'inventory.product.>', ackWaitMs },
      retry: { baseMs: 10, maxMs: 100 },
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

  it('keeps retrying an event that fails for longer than the ack wait, and nothing after it overtakes it', async () => {
    const failUntil = Date.now() + 2_500;
    let attempts = 0;
    const c = consumer(async (em, event) => {
      if (event.aggregate.version === 8 && Date.now() < failUntil) {
        attempts++;
        throw new Error('database unavailable');
      }
      await em.execute('insert into applied values (?, ?)', [event.id, event.aggregate.version]);
    }, 900);
    await c.start();
    await publishCopy(stockEvent('inbox-rec', 8), 1);
    await publishCopy(stockEvent('inbox-rec', 9), 1);
    await eventually(async () => (await applied()).includes(9), { timeoutMs: 15_000 });
    await c.stop();
    expect(attempts).toBeGreaterThan(5);
    // Insertion order (this table is only appended to): 8 was applied before 9.
    const rows = await f.orm.em
      .fork()
      .execute<{ v: number }[]>('select version as v from applied where version >= 8 order by ctid');
    expect(rows.map((r) => r.v)).toEqual([8, 9]);
  });

  /** The dead letters stored so far, oldest first. */
  const deadLetters = async () => {
    const c = await jetstream(f.nc).consumers.get(DEAD_LETTERS_STREAM);
    const found: { subject: string; seq: number; headers: Record<string, string>; data: string }[] = [];
    for (;;) {
      const msg = await c.next({ expires: 1_000 });
      if (!msg) return found;
      const headers: Record<string, string> = {};
      for (const [key, values] of msg.headers ?? []) headers[key] = values.join(',');
      found.push({ subject: msg.subject, seq: msg.seq, headers, data: msg.string() });
      if (msg.info.pending === 0) return found;
    }
  };

  it('moves a message that is not a valid event to the dead-letter stream and goes on with the next', async () => {
    const c = consumer();
    await c.start();
    const subject = 'inventory.product.x.warehouse.w.variant._.uom._.updated';
    const h = headers();
    h.set('Trace-Id', 'trace-7');
    const { seq } = await jetstream(f.nc).publish(subject, '{"not":"an event"}', { headers: h });
    await publishCopy(stockEvent('inbox-rec', 6), 1);
    await eventually(async () => (await applied()).includes(6));
    await c.stop();
    const [letter] = (await deadLetters()).filter((d) => d.headers['Dlq-Seq'] === String(seq));
    expect(letter).toMatchObject({
      subject: `dlq.test.${subject}`,
      data: '{"not":"an event"}',
      headers: {
        'Trace-Id': 'trace-7',
        'Dlq-Subject': subject,
        'Dlq-Stream': 'EVENTS',
        'Dlq-Consumer': 'test-inbox',
        'Dlq-Reason': 'undecodable',
        'Dlq-Deliveries': '1',
      },
    });
    expect(letter?.headers['Dlq-Error']).toBeTruthy();
  });

  it('dead-letters an event its handler declares permanent, keeps nothing of it, and a redrive applies it once', async () => {
    let refuse = true;
    const c = consumer(async (em, event) => {
      if (refuse) throw new PermanentEventError('unknown warehouse');
      await em.execute('insert into applied values (?, ?)', [event.id, event.aggregate.version]);
    });
    await c.start();
    const refused = stockEvent('inbox-rec', 7);
    await publishCopy(refused, 1);
    const letter = await eventually(async () =>
      (await deadLetters()).find((d) => d.headers['Dlq-Reason'] === 'permanent'),
    );
    expect(letter.headers['Dlq-Error']).toBe('unknown warehouse');
    expect(JSON.parse(letter.data).id).toBe(refused.id);
    expect(await scalar(f.orm, 'select count(*) from inbox where event_id = ?', [refused.id])).toBe(0);

    // The handler is fixed; the operator redrives the letter (twice: the second finds it in the inbox).
    refuse = false;
    const redrive = async () => {
      const h = headers();
      for (const [key, value] of Object.entries(letter.headers)) h.set(key, value);
      const answer = await f.nc.request(redriveSubject('test-inbox'), letter.data, {
        headers: h,
        timeout: 5_000,
      });
      return answer.json<RedriveReply>();
    };
    expect(await redrive()).toEqual({ outcome: 'applied' });
    expect(await redrive()).toEqual({ outcome: 'duplicate' });
    await c.stop();
    expect((await applied()).filter((v) => v === 7)).toHaveLength(1);
  });

  it("picks up its consumer reset by an operator and keeps the operator's: it never makes one again in the same stream", async () => {
    const running = consumer();
    await running.start();
    await publishCopy(stockEvent('inbox-reset', 8), 1);
    await eventually(async () => (await applied()).includes(8));

    // What `invctl consumers reset --to-seq` does: delete, then create with the same settings from a sequence.
    const jsm = await jetstreamManager(f.nc);
    const { config, delivered } = await jsm.consumers.info(EVENTS_STREAM, 'test-inbox');
    await jsm.consumers.delete(EVENTS_STREAM, 'test-inbox');
    await jsm.consumers.add(EVENTS_STREAM, {
      ...config,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: delivered.stream_seq + 1,
    });
    await publishCopy(stockEvent('inbox-reset', 9), 1);
    // Its pull ends when the consumer is deleted; the loop finds the operator's (0.5 s here; 7.5 s when the pull
    // waited for the consumer to come back).
    await eventually(async () => (await applied()).includes(9), { timeoutMs: 15_000 });
    await running.stop();
    const after = await jsm.consumers.info(EVENTS_STREAM, 'test-inbox');
    expect(after.config.deliver_policy).toBe(DeliverPolicy.StartSequence);
  });
});
