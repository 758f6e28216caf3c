import {
  channelMatchesSubject,
  type DomainEvent,
  EVENTS_STREAM,
  parseChannel,
  stockSubject,
  subjectOf,
} from '@inv/contracts';
import { eventually } from '@inv/testkit';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  jsonLines,
  type NatsFixture,
  natsFixture,
  publishEvents,
  stockUpdated,
  transferEvent,
} from './support.js';

describe('invctl events', () => {
  let f: NatsFixture;
  const stored: { seq: number; subject: string; id: string | null }[] = [];
  let invalidSeq = 0;

  const publish = async (events: DomainEvent[]) => {
    const seqs = await publishEvents(f.nc, events);
    stored.push(...events.map((e, i) => ({ seq: seqs[i]!, subject: subjectOf(e), id: e.id })));
    return seqs;
  };

  beforeAll(async () => {
    f = await natsFixture();
    const events: DomainEvent[] = [];
    for (let v = 1; v <= 3; v++) {
      for (const warehouseId of ['w1', 'w2']) events.push(stockUpdated({ productId: 'p1', warehouseId }, v));
      events.push(stockUpdated({ productId: 'p2', warehouseId: 'w3' }, v));
    }
    events.push(transferEvent('transfer.requested', { transferId: 't1', from: 'w1', to: 'w2' }, 1));
    events.push(transferEvent('transfer.requested', { transferId: 't2', from: 'w3', to: 'w1' }, 1));
    events.push(transferEvent('transfer.requested', { transferId: 't3', from: 'w2', to: 'w3' }, 1));
    await publish(events);
    // A message no producer of the platform would write: it must be listed as invalid, not skipped.
    const subject = stockSubject({ productId: 'p1', warehouseId: 'w1' }, 'inventory.updated');
    const ack = await jetstream(f.nc).publish(
      subject,
      JSON.stringify({ type: 'inventory.updated', data: {} }),
    );
    invalidSeq = ack.seq;
    stored.push({ seq: ack.seq, subject, id: null });
    await publish([stockUpdated({ productId: 'p1', warehouseId: 'w1' }, 4)]);
  });
  afterAll(async () => {
    await f?.close();
  });

  const expectedSeqs = (channel: string) => {
    const parsed = parseChannel(channel);
    if (!parsed.ok) throw new Error(parsed.message);
    return stored.filter((s) => channelMatchesSubject(parsed.channel, s.subject)).map((s) => s.seq);
  };

  it('selects exactly the events of a channel with several filters, in stream order, invalid ones included', async () => {
    const result = await f.cli(['events', '--channel', 'warehouse:w1', '--json']);
    expect(result.code).toBe(0);
    const rows = jsonLines(result.stdout);
    const expected = expectedSeqs('warehouse:w1');
    expect(rows.map((r) => r.seq)).toEqual(expected);
    // stock of w1 (4 valid + 1 invalid), t1 from w1, t2 to w1
    expect(expected).toHaveLength(7);
    const invalid = rows.find((r) => r.seq === invalidSeq);
    expect(invalid).toMatchObject({ valid: false, error: { reason: 'invalid_envelope' } });
    expect(rows.filter((r) => r.valid).map((r) => r.event.id)).toEqual(
      stored.filter((s) => expected.includes(s.seq) && s.id).map((s) => s.id),
    );
  });

  it('shows an invalid message as such in the table', async () => {
    const result = await f.cli(['events', '--channel', 'product:p1:warehouse:w1']);
    expect(result.code).toBe(0);
    const line = result.stdout.split('\n').find((l) => l.trimStart().startsWith(`${invalidSeq} `));
    expect(line).toContain('(invalid)');
    expect(line).toContain('INVALID invalid_envelope');
    expect(result.stdout).toContain('in +10: available 40, reserved 0, v4');
    expect(result.stderr).toContain('5 message(s), 1 invalid');
  });

  it('flags an event stored on a subject other than its own', async () => {
    const event = stockUpdated({ productId: 'p9', warehouseId: 'w9' }, 1);
    const wrong = stockSubject({ productId: 'p9', warehouseId: 'w8' }, 'inventory.updated');
    const ack = await jetstream(f.nc).publish(wrong, JSON.stringify(event));
    stored.push({ seq: ack.seq, subject: wrong, id: null });
    const rows = jsonLines((await f.cli(['events', '--subject', 'inventory.product.p9.>', '--json'])).stdout);
    expect(rows).toEqual([
      expect.objectContaining({
        seq: ack.seq,
        valid: false,
        error: expect.objectContaining({ reason: 'subject_mismatch' }),
      }),
    ]);
  });

  it('reads a sequence range, a subject filter and a limit', async () => {
    const range = jsonLines((await f.cli(['events', '--from-seq', '3', '--to-seq', '6', '--json'])).stdout);
    expect(range.map((r) => r.seq)).toEqual([3, 4, 5, 6]);
    const transfers = jsonLines(
      (await f.cli(['events', '--subject', 'transfer.>', '--limit', '2', '--json'])).stdout,
    );
    expect(transfers.map((r) => r.event.data.transferId)).toEqual(['t1', 't2']);
    const none = await f.cli(['events', '--channel', 'transfer:nope', '--json']);
    expect(none.stdout).toBe('');
  });

  it('reads a time range', async () => {
    const times = await Promise.all(
      stored.map(async (s) => (await f.jsm.streams.getMessage(EVENTS_STREAM, { seq: s.seq }))!.time),
    );
    // The first message whose millisecond differs from the one before: --since that time starts exactly there.
    const boundary = times.findIndex((t, i) => i > 0 && t.getTime() > times[i - 1]!.getTime());
    expect(boundary).toBeGreaterThan(0);
    const since = times[boundary]!.toISOString();
    const rows = jsonLines((await f.cli(['events', '--since', since, '--json'])).stdout);
    expect(rows[0].seq).toBe(stored[boundary]!.seq);
    expect(rows.at(-1).seq).toBe(stored.at(-1)!.seq);
    const until = jsonLines(
      (await f.cli(['events', '--until', times[boundary - 1]!.toISOString(), '--json'])).stdout,
    );
    expect(until.map((r) => r.seq)).toEqual(stored.slice(0, boundary).map((s) => s.seq));
    expect(
      (await f.cli(['events', '--since', '1h', '--json'])).stdout.split('\n').filter(Boolean),
    ).toHaveLength(stored.length);
  });

  it('refuses a malformed channel and conflicting options with exit code 2', async () => {
    const bad = await f.cli(['events', '--channel', 'warehouse:w.1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid id');
    const both = await f.cli(['events', '--channel', 'global', '--subject', '>']);
    expect(both.code).toBe(2);
    const follow = await f.cli(['events', '--follow', '--to-seq', '3']);
    expect(follow.code).toBe(2);
  });

  it.each([
    ['warehouse:w2', 'several filters'],
    ['product:p2', 'one filter'],
  ])('follows %s live (%s) until stopped, history first', async (channel) => {
    const controller = new AbortController();
    let seen = '';
    const tail = f.cli(['events', '--channel', channel, '--follow', '--json'], {
      signal: controller.signal,
      onStdout: (text) => {
        seen = text;
      },
    });
    const history = expectedSeqs(channel);
    await eventually(() => jsonLines(seen).length === history.length, { message: 'history' });
    const live = await publish([
      stockUpdated({ productId: 'p2', warehouseId: 'w2' }, 1),
      stockUpdated({ productId: 'p5', warehouseId: 'w5' }, 1),
      transferEvent('transfer.requested', { transferId: 't9', from: 'w3', to: 'w2' }, 1),
    ]);
    const expected = expectedSeqs(channel);
    expect(expected.filter((s) => live.includes(s)).length).toBeGreaterThan(0);
    await eventually(() => jsonLines(seen).length === expected.length, { message: 'live events' });
    controller.abort();
    const result = await tail;
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout).map((r) => r.seq)).toEqual(expected);
  });
});
