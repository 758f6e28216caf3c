import { DEAD_LETTERS_STREAM, subjectOf } from '@inv/contracts';
import {
  createOrm,
  ensureDeadLettersStream,
  InboxConsumer,
  type Orm,
  PermanentEventError,
} from '@inv/platform';
import { createTestDatabase, eventually, type TestDatabase, testLogger } from '@inv/testkit';
import { jetstream } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, type NatsFixture, natsFixture, stockUpdated } from './support.js';

const CONSUMER = 'dlq-test-consumer';

describe('invctl dead-letters', () => {
  let f: NatsFixture;
  let db: TestDatabase;
  let orm: Orm;
  let consumer: InboxConsumer;
  let refuse = true;
  const event = stockUpdated({ productId: 'dl-1', warehouseId: 'w1' }, 1);

  const appliedCount = async () =>
    Number(
      (
        await orm.em
          .fork()
          .execute<{ n: string }[]>('select count(*) as n from applied where event_id = ?', [event.id])
      )[0]?.n,
    );
  const letters = async () => jsonLines((await f.cli(['dead-letters', 'list', '--json'])).stdout);

  beforeAll(async () => {
    f = await natsFixture();
    await ensureDeadLettersStream(f.jsm);
    db = await createTestDatabase('invctl_dlq');
    orm = await createOrm({ url: db.url, entities: [], migrations: [], logger: testLogger() });
    await orm.getMigrator().up();
    await orm.em.fork().execute('create table applied (event_id uuid not null)');
    consumer = new InboxConsumer({
      nc: f.nc,
      orm,
      logger: testLogger(),
      service: 'inventory',
      durable: { name: CONSUMER, filterSubject: 'inventory.>' },
      handle: async (em, e) => {
        if (refuse) throw new PermanentEventError('no such warehouse');
        await em.execute('insert into applied values (?)', [e.id]);
      },
    });
    await consumer.start();
    await jetstream(f.nc).publish('inventory.garbage', 'not json');
    await jetstream(f.nc).publish(subjectOf(event), JSON.stringify(event), { msgID: event.id });
    await eventually(async () => (await letters()).length === 2, { message: 'two dead letters' });
  });
  afterAll(async () => {
    await consumer?.stop();
    await orm?.close(true);
    await f?.close();
    await db?.drop();
  });

  it('lists and shows dead letters with their subject, reason, error and delivery count', async () => {
    const [garbage, refused] = await letters();
    expect(garbage).toMatchObject({
      service: 'inventory',
      subject: 'inventory.garbage',
      consumer: CONSUMER,
      reason: 'undecodable',
      deliveries: 1,
      eventId: null,
      data: 'not json',
    });
    expect(refused).toMatchObject({
      subject: subjectOf(event),
      reason: 'permanent',
      error: 'no such warehouse',
      eventId: event.id,
      eventType: 'inventory.updated',
    });
    const table = await f.cli(['dead-letters', 'list']);
    expect(table.stdout).toMatch(/inventory\.garbage.*undecodable/);
    const show = await f.cli(['dead-letters', 'show', String(refused.seq)]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('Dlq-Error: no such warehouse');
    expect(show.stdout).toContain(`"id": "${event.id}"`);
    expect((await f.cli(['dead-letters', 'show', '9999'])).code).toBe(3);
  });

  it('redrives through the inbox: a dry run changes nothing, a redrive applies once, a copy is a duplicate', async () => {
    const [, refused] = await letters();
    const dry = await f.cli(['dead-letters', 'redrive', '--all', '--dry-run', '--json']);
    expect(jsonLines(dry.stdout).map((r) => r.outcome)).toEqual(['would redrive', 'would redrive']);
    expect(await letters()).toHaveLength(2);

    refuse = false; // the handler is "fixed"
    const redrive = await f.cli(['dead-letters', 'redrive', String(refused.seq), '--json']);
    expect(redrive.code).toBe(0);
    expect(jsonLines(redrive.stdout)).toEqual([
      expect.objectContaining({ seq: refused.seq, outcome: 'applied' }),
    ]);
    expect(await appliedCount()).toBe(1);
    expect((await letters()).map((l) => l.seq)).not.toContain(refused.seq);

    // The same event dead-lettered again (say by a second instance): redriving it applies nothing more.
    const h = headers();
    for (const [key, values] of Object.entries(refused.headers as Record<string, string[]>)) {
      if (key !== 'Nats-Msg-Id') h.set(key, values[0]!);
    }
    const copy = await jetstream(f.nc).publish(`dlq.inventory.${refused.subject}`, refused.data, {
      headers: h,
    });
    const again = await f.cli(['dead-letters', 'redrive', String(copy.seq), '--json']);
    expect(jsonLines(again.stdout)).toEqual([expect.objectContaining({ outcome: 'duplicate' })]);
    expect(await appliedCount()).toBe(1);
  });

  it('keeps a letter that still cannot be applied, and discards only with --yes', async () => {
    const [garbage] = await letters();
    const failed = await f.cli(['dead-letters', 'redrive', String(garbage.seq), '--json']);
    expect(failed.code).toBe(3);
    expect(jsonLines(failed.stdout)).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    expect(await letters()).toHaveLength(1);

    const refusedDiscard = await f.cli(['dead-letters', 'discard', String(garbage.seq)]);
    expect(refusedDiscard.code).toBe(2);
    expect(refusedDiscard.stderr).toContain('pass --yes');
    expect(await letters()).toHaveLength(1);
    const discard = await f.cli(['dead-letters', 'discard', String(garbage.seq), '--yes']);
    expect(discard.code).toBe(0);
    expect(await letters()).toHaveLength(0);
    const info = await f.jsm.streams.info(DEAD_LETTERS_STREAM);
    expect(info.state.messages).toBe(0);
  });

  it('says so when no instance of the consumer is running', async () => {
    await consumer.stop();
    const h = headers();
    h.set('Dlq-Consumer', CONSUMER);
    const { seq } = await jetstream(f.nc).publish('dlq.inventory.inventory.x', JSON.stringify(event), {
      headers: h,
    });
    const result = await f.cli(['dead-letters', 'redrive', String(seq), '--json']);
    expect(result.code).toBe(3);
    expect(jsonLines(result.stdout)).toEqual([expect.objectContaining({ outcome: 'no consumer running' })]);
    expect(await letters()).toHaveLength(1);
  });
});
