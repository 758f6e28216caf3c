import { describe, expect, it } from 'vitest';
import { checkRepublished, HeldMessages } from './live-sequence.js';

const headers = (
  overrides: Partial<Record<'stream' | 'subject' | 'sequence' | 'lastSequence', string>> = {},
) => ({
  stream: 'EVENTS',
  subject: 'inventory.product.p.warehouse.w.updated',
  sequence: '12',
  lastSequence: '7',
  ...overrides,
});

describe('checkRepublished', () => {
  it('believes the headers RePublish sets', () => {
    expect(checkRepublished(headers(), 'inventory.product.p.warehouse.w.updated', 'EVENTS')).toEqual({
      ok: true,
      seq: 12,
      lastSeq: 7,
    });
  });

  it.each([
    [{ stream: undefined }, 'no_headers'],
    [{ lastSequence: undefined }, 'no_headers'],
    [{ stream: 'KV_gateway-sessions' }, 'wrong_stream'],
    [{ subject: 'inventory.product.q.warehouse.w.updated' }, 'wrong_subject'],
    [{ sequence: '1e9' }, 'bad_sequence'],
    [{ sequence: '0' }, 'bad_sequence'],
    [{ sequence: '99999999999999999999' }, 'bad_sequence'],
    [{ lastSequence: '12' }, 'bad_sequence'],
    [{ lastSequence: '-1' }, 'bad_sequence'],
  ] as const)('rejects %j as %s', (overrides, reason) => {
    const check = checkRepublished(
      headers(overrides as Record<string, string | undefined>),
      'inventory.product.p.warehouse.w.updated',
      'EVENTS',
    );
    expect(check).toEqual({ ok: false, reason });
  });
});

const message = (seq: number) => ({ seq, data: 'x' });
const held = (...seqs: number[]) => {
  const buffer = new HeldMessages<{ seq: number; data: string }>(1_000, (m) => m.data.length);
  for (const seq of seqs) buffer.push(message(seq));
  return buffer;
};
const seqs = (messages: Array<{ seq: number }>) => messages.map((m) => m.seq);

describe('held live messages', () => {
  it('releases the next sequences up to the confirmed end, dropping duplicates', () => {
    const buffer = held(9, 11, 10, 12);
    const { deliver, stop } = buffer.release(9, 12, buffer.arrivals);
    expect(seqs(deliver)).toEqual([10, 11, 12]);
    expect(stop).toEqual({ kind: 'done' });
    expect(buffer.length).toBe(0);
  });

  it('stops at a hole: the message before was lost on its way', () => {
    const buffer = held(11, 13, 14);
    const { deliver, stop } = buffer.release(10, 14, buffer.arrivals);
    expect(seqs(deliver)).toEqual([11]);
    expect(stop).toEqual({ kind: 'gap' });
    expect(buffer.length).toBe(2);
  });

  it('waits for another look for the next message that came after the look', () => {
    const buffer = held(11);
    const lookedAfter = buffer.arrivals;
    buffer.push(message(12));
    const { deliver, stop } = buffer.release(10, 11, lookedAfter);
    expect(seqs(deliver)).toEqual([11]);
    expect(stop).toEqual({ kind: 'look' });
  });

  it('suspects a sequence the stream had not reached when looked at after it came', () => {
    const buffer = held(1_000_000_000, 11);
    const { deliver, stop } = buffer.release(10, 11, buffer.arrivals);
    expect(seqs(deliver)).toEqual([11]);
    expect(stop.kind).toBe('suspect');
    if (stop.kind === 'suspect') buffer.remove(stop.message);
    expect(buffer.length).toBe(0);
  });

  it('keeps a forged sequence from overtaking the real ones before it', () => {
    const buffer = held(15, 11, 12);
    const { deliver, stop } = buffer.release(10, 15, buffer.arrivals);
    expect(seqs(deliver)).toEqual([11, 12]);
    expect(stop).toEqual({ kind: 'gap' });
  });

  it('forgets what it holds when it overflows, and says so', () => {
    const buffer = new HeldMessages<{ seq: number; data: string }>(3, (m) => m.data.length);
    expect(buffer.push({ seq: 1, data: 'ab' })).toBe(true);
    expect(buffer.push({ seq: 2, data: 'cd' })).toBe(false);
    expect(buffer.length).toBe(0);
    expect(buffer.push({ seq: 3, data: 'e' })).toBe(true);
  });
});
