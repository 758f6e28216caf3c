import { DURABLE_CONSUMERS, EVENTS_STREAM } from '@inv/contracts';
import { ensureDurableConsumer } from '@inv/platform';
import { AckPolicy, DiscardPolicy, jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type NatsFixture, natsFixture, publishEvents, stockUpdated, transferEvent } from './support.js';

const { name, filterSubject } = DURABLE_CONSUMERS.inventoryTransfers;

describe('invctl consumers', () => {
  let f: NatsFixture;
  let transferSeqs: number[];

  /** Processes everything the consumer has, as the service would. */
  const consumeAll = async (): Promise<number[]> => {
    const consumer = await jetstream(f.nc).consumers.get(EVENTS_STREAM, name);
    const seqs: number[] = [];
    for (;;) {
      const pending = (await consumer.info()).num_pending;
      if (pending === 0) return seqs;
      const msg = await consumer.next({ expires: 2_000 });
      if (!msg) return seqs;
      seqs.push(msg.seq);
      await msg.ackAck();
    }
  };

  beforeAll(async () => {
    f = await natsFixture();
    const events = [];
    for (let i = 1; i <= 10; i++) {
      events.push(transferEvent('transfer.requested', { transferId: `t${i}`, from: 'w1', to: 'w2' }, 1));
      events.push(stockUpdated({ productId: `p${i}`, warehouseId: 'w1' }, 1));
    }
    const seqs = await publishEvents(f.nc, events);
    transferSeqs = seqs.filter((_, i) => i % 2 === 0);
  });
  beforeEach(async () => {
    await f.jsm.consumers.delete(EVENTS_STREAM, name).catch(() => undefined);
    await ensureDurableConsumer(f.jsm, { name, filterSubject, maxAckPending: 1 });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('lists and shows a durable consumer with its lag', async () => {
    const list = await f.cli(['consumers', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name, num_pending: 10 })]);
    const table = await f.cli(['consumers', 'list']);
    expect(table.stdout).toMatch(new RegExp(`${name}\\s+transfer\\.>\\s+10\\s+0\\s+10`));
    const show = await f.cli(['consumers', 'show', name]);
    expect(show.stdout).toMatch(/filter subject\s+transfer\.>/);
    expect(show.stdout).toMatch(/max ack pending\s+1/);
    const missing = await f.cli(['consumers', 'show', 'nope']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('consumer nope on stream EVENTS not found');
  });

  it('resets a durable consumer to a sequence, keeping its configuration', async () => {
    expect(await consumeAll()).toEqual(transferSeqs);
    const before = await f.jsm.consumers.info(EVENTS_STREAM, name);
    expect(before.num_pending).toBe(0);

    const from = transferSeqs[6]!;
    const result = await f.cli(['consumers', 'reset', name, '--to-seq', String(from), '--yes']);
    expect(result.code).toBe(0);
    const after = await f.jsm.consumers.info(EVENTS_STREAM, name);
    expect(after.num_pending).toBe(4);
    expect(after.config).toMatchObject({
      filter_subject: filterSubject,
      max_ack_pending: 1,
      ack_wait: before.config.ack_wait,
      deliver_policy: 'by_start_sequence',
      opt_start_seq: from,
    });
    expect(await consumeAll()).toEqual(transferSeqs.slice(6));
  });

  it('resets a durable consumer to a time', async () => {
    expect(await consumeAll()).toHaveLength(10);
    const first = await f.jsm.streams.getMessage(EVENTS_STREAM, { seq: 1 });
    const result = await f.cli(['consumers', 'reset', name, '--to-time', first!.time.toISOString(), '--yes']);
    expect(result.code).toBe(0);
    expect(await consumeAll()).toEqual(transferSeqs);
  });

  it('will not reset or delete without --yes when nobody can be asked', async () => {
    const reset = await f.cli(['consumers', 'reset', name, '--to-seq', '1']);
    expect(reset.code).toBe(2);
    expect(reset.stderr).toContain('pass --yes');
    const del = await f.cli(['consumers', 'delete', name]);
    expect(del.code).toBe(2);
    expect(del.stderr).toContain('pass --yes');
    expect((await f.jsm.consumers.info(EVENTS_STREAM, name)).config.deliver_policy).toBe('all');
    const neither = await f.cli(['consumers', 'reset', name, '--yes']);
    expect(neither.code).toBe(2);
  });

  it('asks on a terminal and deletes only on yes', async () => {
    const no = await f.cli(['consumers', 'delete', name], { answer: 'n' });
    expect(no.code).toBe(2);
    expect(no.stderr).toContain(`Delete consumer ${name}`);
    expect((await f.jsm.consumers.info(EVENTS_STREAM, name)).name).toBe(name);
    const yes = await f.cli(['consumers', 'delete', name], { answer: 'y' });
    expect(yes.code).toBe(0);
    await expect(f.jsm.consumers.info(EVENTS_STREAM, name)).rejects.toThrow(/consumer not found/);
  });

  it('deletes with --yes', async () => {
    const result = await f.cli(['consumers', 'delete', name, '--yes', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ deleted: name, stream: EVENTS_STREAM });
    await expect(f.jsm.consumers.info(EVENTS_STREAM, name)).rejects.toThrow(/consumer not found/);
  });

  it("shows how close each consumer's backlog is to the stream's retention limits", async () => {
    await f.jsm.streams.add({
      name: 'SMALL',
      subjects: ['small.>'],
      max_msgs: 10,
      discard: DiscardPolicy.Old,
    });
    await f.jsm.consumers.add('SMALL', { durable_name: 'behind', ack_policy: AckPolicy.Explicit });
    for (let i = 0; i < 9; i++) await jetstream(f.nc).publish('small.x', 'e');
    const warning = await f.cli(['consumers', 'list', '--stream', 'SMALL']);
    expect(warning.stdout).toMatch(/behind.*90 % !/);
    expect(warning.stderr).toContain(
      'behind: its unprocessed messages use 90 % ! of a retention limit of SMALL',
    );

    for (let i = 0; i < 3; i++) await jetstream(f.nc).publish('small.x', 'e');
    const lost = await f.cli(['consumers', 'list', '--stream', 'SMALL', '--json']);
    expect(JSON.parse(lost.stdout)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'behind',
          retention: expect.objectContaining({ status: 'lost', lost: 2 }),
        }),
      ]),
    );
    expect(lost.stderr).toContain('behind: the stream discarded up to 2 message(s) it had not processed');
  });
});
