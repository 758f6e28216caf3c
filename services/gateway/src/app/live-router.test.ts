import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { RecentWindow } from '../domain/recent-window.js';
import { createGatewayMetrics } from '../infra/metrics.js';
import { LiveRouter } from './live-router.js';
import type { LiveFeed, LiveMessage, RawMessage, ReadRange, StreamLookup, StreamReader } from './ports.js';
import { Semaphore } from './semaphore.js';

const SUBJECT = 'inventory.product.p.warehouse.w.updated';
const body = (text: string) => Buffer.from(text);

/** The live router's protocol with the stream played by fakes: what the stream has, and what the feed brings. */
function setup(stored: Map<number, RawMessage>, recent?: RecentWindow) {
  let deliver: (message: LiveMessage) => void = () => undefined;
  const feed: LiveFeed = {
    subscribe(_filter, onMessage) {
      deliver = onMessage;
      return () => undefined;
    },
    flush: async () => undefined,
  };
  /** The stream's end as the next look reports it (a stale answer can be scripted). */
  const looks: number[] = [];
  const stream = {
    epoch: 1,
    current: async () => ({ epoch: 1, firstSeq: 1, lastSeq: looks.shift() ?? Math.max(0, ...stored.keys()) }),
  };
  const reads: Array<[number, number]> = [];
  const reader: StreamReader = {
    async read({ fromSeq, toSeq, onMessage }: ReadRange) {
      reads.push([fromSeq, toSeq]);
      for (let seq = fromSeq; seq <= toSeq; seq++) {
        const message = stored.get(seq);
        if (message) await onMessage(message);
      }
    },
  };
  const lookup: StreamLookup = { messageAt: async (seq) => stored.get(seq) ?? null };
  const routed: RawMessage[] = [];
  const routes = { route: (message: RawMessage) => routed.push(message), any: true };
  const router = new LiveRouter(
    {
      feed,
      reader,
      lookup,
      stream,
      readSlots: new Semaphore(4),
      metrics: createGatewayMetrics(new Registry()),
      logger: pino({ level: 'silent' }),
      recent,
    },
    routes,
  );
  const live = (seq: number, data = `live-${seq}`) =>
    deliver({ seq, lastSeq: 0, subject: SUBJECT, data: body(data) });
  return { router, live, routed, reads, looks, routes };
}

/** The stream stores a message before it republishes it. */
const store = (stored: Map<number, RawMessage>, ...seqs: number[]) => {
  for (const seq of seqs) stored.set(seq, { seq, subject: SUBJECT, data: body(`stored-${seq}`) });
};
const storedRange = (from: number, to: number) =>
  new Map(
    Array.from({ length: to - from + 1 }, (_, i) => [
      from + i,
      { seq: from + i, subject: SUBJECT, data: body(`stored-${from + i}`) },
    ]),
  );

describe('the live router', () => {
  it('routes live messages in order once the stream has reached them', async () => {
    const stored = storedRange(1, 10);
    const { router, live, routed, reads } = setup(stored);
    await router.ready;
    store(stored, 11, 12);
    live(11);
    live(12);
    await vi.waitFor(() => expect(routed.map((m) => m.seq)).toEqual([11, 12]));
    expect(reads).toEqual([]);
    expect(router.position).toBe(12);
  });

  it('reads a hole from the stream before the messages after it', async () => {
    const stored = storedRange(1, 10);
    const { router, live, routed, reads } = setup(stored);
    await router.ready;
    store(stored, 11, 12, 13, 14);
    live(11);
    live(13);
    live(14);
    await vi.waitFor(() => expect(routed.map((m) => m.seq)).toEqual([11, 12, 13, 14]));
    expect(reads).toEqual([[12, 14]]);
    expect(Buffer.from(routed[1]!.data).toString()).toBe('stored-12');
  });

  it('drops a sequence the stream does not have, and keeps going', async () => {
    const stored = storedRange(1, 10);
    const { router, live, routed } = setup(stored);
    await router.ready;
    live(1_000_000_000, 'forged');
    store(stored, 11);
    live(11);
    await vi.waitFor(() => expect(router.position).toBe(11));
    store(stored, 12);
    live(12);
    await vi.waitFor(() => expect(routed.map((m) => m.seq)).toEqual([11, 12]));
    expect(routed.some((m) => Buffer.from(m.data).toString() === 'forged')).toBe(false);
  });

  it("believes a message a stale look missed when the stream's own copy is there, with the stored body", async () => {
    const stored = storedRange(1, 10);
    const { router, live, routed, looks } = setup(stored);
    await router.ready;
    store(stored, 11);
    looks.push(10);
    live(11, 'tampered');
    await vi.waitFor(() => expect(routed.map((m) => m.seq)).toEqual([11]));
    expect(Buffer.from(routed[0]!.data).toString()).toBe('stored-11');
  });

  describe('with a recent-events window', () => {
    const seqsAfter = (router: LiveRouter, seq: number) =>
      router.recentAfter(seq)?.map((entry) => entry.seq) ?? null;
    const text = (data: Uint8Array) => Buffer.from(data).toString();

    it('holds what it routed, a hole read from the stream included, in order', async () => {
      const stored = storedRange(1, 10);
      const { router, live } = setup(stored, new RecentWindow(100, 1 << 20));
      await router.ready;
      expect(seqsAfter(router, 10)).toEqual([]);
      store(stored, 11, 12, 13, 14);
      live(11);
      live(13);
      live(14);
      await vi.waitFor(() => expect(router.position).toBe(14));
      expect(seqsAfter(router, 10)).toEqual([11, 12, 13, 14]);
      expect(text(router.recentAfter(11)![0]!.data)).toBe('stored-12');
      // Before the router started: never routed here, so never served from memory.
      expect(router.recentAfter(9)).toBeNull();
    });

    it('is bypassed after a refill nobody was owed, and starts again from there', async () => {
      const stored = storedRange(1, 10);
      const { router, live, routes, reads } = setup(stored, new RecentWindow(100, 1 << 20));
      await router.ready;
      store(stored, 11);
      live(11);
      await vi.waitFor(() => expect(router.position).toBe(11));
      // No channel is live: the refill moves the position past 12..15 without routing them.
      routes.any = false;
      store(stored, 12, 13, 14, 15);
      await router.recover();
      expect(router.position).toBe(15);
      expect(reads).toEqual([]);
      expect(router.recentAfter(10)).toBeNull();
      expect(router.recentAfter(11)).toBeNull();
      routes.any = true;
      store(stored, 16);
      live(16);
      await vi.waitFor(() => expect(router.position).toBe(16));
      expect(router.recentAfter(11)).toBeNull();
      expect(router.recentAfter(14)).toBeNull();
      expect(seqsAfter(router, 15)).toEqual([16]);
    });

    it('forgets everything when the stream is recreated', async () => {
      const stored = storedRange(1, 10);
      const { router, live } = setup(stored, new RecentWindow(100, 1 << 20));
      await router.ready;
      store(stored, 11);
      live(11);
      await vi.waitFor(() => expect(router.position).toBe(11));
      router.rebase(0);
      expect(router.recentAfter(10)).toBeNull();
      expect(seqsAfter(router, 0)).toEqual([]);
    });
  });
});
