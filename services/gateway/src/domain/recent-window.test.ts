import { describe, expect, it } from 'vitest';
import { eventBody } from '../../test/fakes.js';
import { eventOfEntry, frameOfEntry, RecentWindow } from './recent-window.js';

const SUBJECT = 'inventory.product.p.warehouse.w.updated';
const message = (seq: number, bytes = 10) => ({ seq, subject: SUBJECT, data: new Uint8Array(bytes) });
const seqs = (entries: Array<{ seq: number }> | null) => entries?.map((entry) => entry.seq) ?? null;

/** A window that has routed 11..20 after starting at 10. */
function filled(maxEvents = 100, maxBytes = 1 << 20): RecentWindow {
  const window = new RecentWindow(maxEvents, maxBytes);
  for (let seq = 11; seq <= 20; seq++) window.append(seq - 1, message(seq));
  return window;
}

describe('the recent-events window', () => {
  it('serves a cursor at its start, inside it and at its end, but not one before its start', () => {
    const window = filled();
    expect([window.from, window.to]).toEqual([10, 20]);
    // from = first - 1: every event after it is held.
    expect(seqs(window.after(10, 20))).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(seqs(window.after(11, 20))).toEqual([12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(seqs(window.after(20, 20))).toEqual([]);
    // Older than the window: event 10 is not held.
    expect(window.after(9, 20)).toBeNull();
    // Beyond its end: not the window's to answer.
    expect(window.after(21, 21)).toBeNull();
  });

  it('is bypassed while the router is past its end, and starts afresh from where the router jumped', () => {
    const window = filled();
    // The router moved to 30 without routing 21..30 (nobody was owed them).
    expect(window.after(15, 30)).toBeNull();
    window.append(30, message(31));
    expect([window.from, window.to]).toEqual([30, 31]);
    expect(window.after(20, 31)).toBeNull();
    expect(seqs(window.after(30, 31))).toEqual([31]);
  });

  it('forgets everything on a restart (a recreated stream)', () => {
    const window = filled();
    window.restart(0);
    expect(window.after(10, 20)).toBeNull();
    expect(seqs(window.after(0, 0))).toEqual([]);
    window.append(0, message(1));
    expect(seqs(window.after(0, 1))).toEqual([1]);
  });

  it('evicts the oldest events beyond its count, moving its start up', () => {
    const window = filled(4);
    expect(window.length).toBe(4);
    expect([window.from, window.to]).toEqual([16, 20]);
    expect(window.after(15, 20)).toBeNull();
    expect(seqs(window.after(16, 20))).toEqual([17, 18, 19, 20]);
  });

  it('evicts the oldest events beyond its bytes', () => {
    const unbounded = filled();
    const perEntry = unbounded.size / unbounded.length;
    const window = filled(100, perEntry * 3 + 1);
    expect(window.length).toBe(3);
    expect(window.size).toBeLessThanOrEqual(perEntry * 3 + 1);
    expect(seqs(window.after(17, 20))).toEqual([18, 19, 20]);
    expect(window.after(16, 20)).toBeNull();
  });

  it('holds nothing bigger than its bytes, and still says where it stands', () => {
    const window = new RecentWindow(100, 100);
    window.append(0, message(1, 1000));
    expect(window.length).toBe(0);
    expect(seqs(window.after(1, 1))).toEqual([]);
    expect(window.after(0, 1)).toBeNull();
  });

  it('serves nothing when turned off', () => {
    const window = new RecentWindow(0, 1 << 20);
    window.append(0, message(1));
    expect(window.after(0, 1)).toBeNull();
    expect(window.after(1, 1)).toBeNull();
  });

  it('keeps its own copy of a message body', () => {
    const window = new RecentWindow(10, 1 << 20);
    const data = new Uint8Array([1, 2, 3]);
    window.append(0, { seq: 1, subject: SUBJECT, data });
    data[0] = 9;
    expect([...window.after(0, 1)![0]!.data]).toEqual([1, 2, 3]);
  });

  it('stays in order across compactions of its storage', () => {
    const window = new RecentWindow(10, 1 << 30);
    for (let seq = 1; seq <= 5000; seq++) window.append(seq - 1, message(seq));
    expect(seqs(window.after(4990, 5000))).toEqual([
      4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999, 5000,
    ]);
  });

  it("builds an entry's frame once per channel and epoch, and anew for another", () => {
    const window = new RecentWindow(10, 1 << 20);
    window.append(0, { seq: 1, subject: SUBJECT, data: eventBody('e1') });
    const entry = window.after(0, 1)![0]!;
    const event = eventOfEntry(entry)!;
    const first = frameOfEntry(entry, event, '"product:p"', 1);
    expect(frameOfEntry(entry, event, '"product:p"', 1)).toBe(first);
    expect(frameOfEntry(entry, event, '"global"', 1).toString()).toContain('"channel":"global"');
    expect(frameOfEntry(entry, event, '"global"', 2)).not.toBe(frameOfEntry(entry, event, '"global"', 1));
    expect(JSON.parse(first.toString())).toMatchObject({ channel: 'product:p', id: 'e1' });
  });
});
