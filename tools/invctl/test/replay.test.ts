import { type DomainEvent, EVENTS_STREAM, subjectOf } from '@inv/contracts';
import { nanos } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  jsonLines,
  type NatsFixture,
  natsFixture,
  publishEvents,
  readTarget,
  stockUpdated,
  transferEvent,
} from './support.js';

describe('invctl replay', () => {
  let f: NatsFixture;
  let events: DomainEvent[];
  let seqs: number[];

  const targetStream = async (name: string, duplicateWindowMs: number) => {
    await f.jsm.streams.add({
      name,
      subjects: [`${name.toLowerCase()}.>`],
      duplicate_window: nanos(duplicateWindowMs),
    });
  };

  beforeAll(async () => {
    f = await natsFixture();
    events = [];
    for (let i = 0; i < 1_000; i++) {
      events.push(
        i % 10 === 0
          ? transferEvent('transfer.requested', { transferId: `t${i}`, from: 'w1', to: 'w2' }, 1)
          : stockUpdated({ productId: `p${i % 7}`, warehouseId: `w${i % 3}` }, Math.floor(i / 21) + 1),
      );
    }
    seqs = await publishEvents(f.nc, events);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('shows what a dry run would publish and publishes nothing', async () => {
    await targetStream('DRY', 60_000);
    const result = await f.cli([
      'replay',
      '--channel',
      'transfer:t10',
      '--to-stream',
      'DRY',
      '--dry-run',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const [plan, summary] = jsonLines(result.stdout);
    expect(plan.plan).toEqual({
      seq: seqs[10],
      subject: 'transfer.t10.from.w1.to.w2.requested',
      targetSubject: 'dry.transfer.t10.from.w1.to.w2.requested',
      msgId: `replay:EVENTS:${seqs[10]}:DRY:dry.>`,
    });
    expect(summary.summary).toMatchObject({ dryRun: true, selected: 1, published: 0 });
    expect((await f.jsm.streams.info('DRY')).state.messages).toBe(0);
  });

  it('refuses to replay into the EVENTS stream unless forced', async () => {
    const result = await f.cli([
      'replay',
      '--from-seq',
      '1',
      '--to-seq',
      '2',
      '--to-stream',
      EVENTS_STREAM,
      '--to-subject',
      'inventory.replayed',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('refusing to replay into EVENTS');
    expect((await f.jsm.streams.info(EVENTS_STREAM)).state.messages).toBe(events.length);
  });

  it('resumes after what the target already holds, even beyond its duplicate window', async () => {
    // The shortest window NATS allows: repeats it drops would show as duplicates, repeats after it as extra
    // messages; the resume must avoid both by not sending them at all.
    await targetStream('RESUME', 100);
    const first = await f.cli(['replay', '--to-stream', 'RESUME', '--limit', '400', '--json']);
    expect(first.code).toBe(0);
    expect(jsonLines(first.stdout)[0].summary).toMatchObject({
      published: 400,
      resumedAfter: null,
      lastSeq: seqs[399],
    });

    const second = await f.cli(['replay', '--to-stream', 'RESUME']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`already holds this replay up to source seq ${seqs[399]}`);
    expect(second.stderr).toContain('600 message(s) published, 0 already there');

    const target = await readTarget(f.nc, 'RESUME');
    expect(target.map((m) => m.eventId)).toEqual(events.map((e) => e.id));
    expect(target.map((m) => m.sourceSeq)).toEqual(seqs);
    expect(target.map((m) => m.subject)).toEqual(events.map((e) => `resume.${subjectOf(e)}`));
    expect(target[0]!.msgId).toBe(`replay:EVENTS:${seqs[0]}:RESUME:resume.>`);

    const third = await f.cli(['replay', '--to-stream', 'RESUME', '--json']);
    expect(jsonLines(third.stdout)[0].summary).toMatchObject({
      selected: 0,
      published: 0,
      resumedAfter: seqs.at(-1),
    });
  });

  it('does not resume from the progress of a replay of other subjects', async () => {
    await targetStream('MIXED', 60_000);
    const transfers = jsonLines(
      (await f.cli(['replay', '--subject', 'transfer.>', '--to-stream', 'MIXED', '--json'])).stdout,
    )[0];
    expect(transfers.summary.published).toBe(100);
    const stock = jsonLines(
      (await f.cli(['replay', '--subject', 'inventory.>', '--to-stream', 'MIXED', '--json'])).stdout,
    )[0];
    expect(stock.summary).toMatchObject({ resumedAfter: null, published: 900, duplicates: 0 });
    expect((await readTarget(f.nc, 'MIXED')).map((m) => m.sourceSeq)).toEqual([
      ...seqs.filter((_, i) => i % 10 === 0),
      ...seqs.filter((_, i) => i % 10 !== 0),
    ]);
  });

  it('lets the target drop repeats by message id within its duplicate window', async () => {
    await targetStream('DEDUPE', 60_000);
    const selection = ['--channel', 'warehouse:w1', '--to-stream', 'DEDUPE', '--json'];
    const first = jsonLines((await f.cli(['replay', ...selection])).stdout)[0].summary;
    expect(first.published).toBeGreaterThan(100);
    const again = jsonLines((await f.cli(['replay', ...selection, '--no-resume'])).stdout)[0].summary;
    expect(again).toMatchObject({ selected: first.published, published: 0, duplicates: first.published });
    expect((await f.jsm.streams.info('DEDUPE')).state.messages).toBe(first.published);
  });

  it('creates no target stream in a dry run', async () => {
    const args = ['replay', '--channel', 'product:p3', '--to-subject', 'dry.p3', '--to-stream', 'NEWDRY'];
    const result = await f.cli([...args, '--create-stream', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('dry run: would create stream NEWDRY capturing dry.p3');
    expect(result.stdout).toContain('dry.p3');
    await expect(f.jsm.streams.info('NEWDRY')).rejects.toThrow(/stream not found/);
  });

  it('replays a channel to one subject of a stream it creates', async () => {
    const result = await f.cli([
      'replay',
      '--channel',
      'product:p3',
      '--from-seq',
      String(seqs[500]),
      '--to-subject',
      'reprocess.p3',
      '--to-stream',
      'REPROCESS',
      '--create-stream',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const expected = events
      .map((e, i) => ({ e, seq: seqs[i]! }))
      .filter(
        ({ e, seq }) => seq >= seqs[500]! && e.type === 'inventory.updated' && e.data.productId === 'p3',
      );
    const target = await readTarget(f.nc, 'REPROCESS');
    expect(target.map((m) => m.eventId)).toEqual(expected.map(({ e }) => e.id));
    expect(new Set(target.map((m) => m.subject))).toEqual(new Set(['reprocess.p3']));
    expect((await f.jsm.streams.info('REPROCESS')).config.subjects).toEqual(['reprocess.p3']);
  });

  it('needs a target that exists', async () => {
    const result = await f.cli(['replay', '--to-stream', 'NOPE']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('stream NOPE not found (add --create-stream');
    const noTarget = await f.cli(['replay', '--from-seq', '1']);
    expect(noTarget.code).toBe(2);
  });
});
