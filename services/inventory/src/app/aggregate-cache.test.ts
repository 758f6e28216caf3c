import { eventually } from '@inv/testkit';
import { describe, expect, it } from 'vitest';
import { AggregateCache } from './aggregate-cache.js';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** A computation the test finishes by hand, counting how often it ran. */
function computations(values: number[]) {
  let calls = 0;
  const waiting: ((value: number) => void)[] = [];
  return {
    get calls() {
      return calls;
    },
    compute: () => {
      calls++;
      return new Promise<number>((resolve) => waiting.push(resolve));
    },
    finish: () => waiting.shift()!(values.shift()!),
  };
}

const rows = (n: number) => n;

describe('AggregateCache', () => {
  it('shares one computation between concurrent first reads and serves it until the TTL', async () => {
    const c = clock();
    const cache = new AggregateCache<number>({ ttlMs: 2_000, minRows: 10, maxKeys: 10, now: c.now });
    const work = computations([500]);
    const first = cache.get('uom:each', work.compute, rows);
    const second = cache.get('uom:each', work.compute, rows);
    work.finish();
    expect((await first).value).toBe(500);
    expect((await second).value).toBe(500);
    c.advance(1_999);
    expect((await cache.get('uom:each', work.compute, rows)).value).toBe(500);
    expect(work.calls).toBe(1);
  });

  it('after the TTL serves the last value while one background computation refreshes it', async () => {
    const c = clock();
    const cache = new AggregateCache<number>({ ttlMs: 2_000, minRows: 10, maxKeys: 10, now: c.now });
    const work = computations([500, 600]);
    const first = cache.get('k', work.compute, rows);
    work.finish();
    const computedAt = (await first).at;
    c.advance(2_000);
    const stale = await cache.get('k', work.compute, rows);
    expect(stale).toEqual({ value: 500, at: computedAt });
    await cache.get('k', work.compute, rows);
    expect(work.calls).toBe(2);
    work.finish();
    await new Promise((resolve) => setImmediate(resolve));
    const fresh = await cache.get('k', work.compute, rows);
    expect(fresh.value).toBe(600);
    expect(fresh.at.getTime()).toBe(c.now());
  });

  it('runs the background refreshes of aggregates that fall due together one after the other', async () => {
    const c = clock();
    const cache = new AggregateCache<number>({ ttlMs: 2_000, minRows: 1, maxKeys: 10, now: c.now });
    const uom = computations([1, 2]);
    const lowStock = computations([10, 20]);
    const first = [
      cache.get('uom:each', uom.compute, rows),
      cache.get('low-stock:*', lowStock.compute, rows),
    ];
    uom.finish();
    lowStock.finish();
    await Promise.all(first);
    c.advance(2_000);
    await cache.get('uom:each', uom.compute, rows);
    await cache.get('low-stock:*', lowStock.compute, rows);
    await new Promise((resolve) => setImmediate(resolve));
    expect([uom.calls, lowStock.calls]).toEqual([2, 1]); // the second waits for the first
    uom.finish();
    await eventually(() => lowStock.calls === 2);
    lowStock.finish();
    await eventually(async () => (await cache.get('low-stock:*', lowStock.compute, rows)).value === 20);
    expect((await cache.get('uom:each', uom.compute, rows)).value).toBe(2);
  });

  it('refreshes an aggregate that took long at most once per ten times its cost', async () => {
    const c = clock();
    const cache = new AggregateCache<number>({ ttlMs: 1_000, minRows: 1, maxKeys: 10, now: c.now });
    let calls = 0;
    const slow = async () => {
      c.advance(500);
      return ++calls;
    };
    await cache.get('uom:each', slow, rows);
    c.advance(4_000);
    expect((await cache.get('uom:each', slow, rows)).value).toBe(1);
    expect(calls).toBe(1);
    c.advance(500);
    await cache.get('uom:each', slow, rows);
    expect(calls).toBe(2);
  });

  it('never keeps an aggregate over fewer rows than minRows', async () => {
    const cache = new AggregateCache<number>({ ttlMs: 60_000, minRows: 10, maxKeys: 10 });
    let calls = 0;
    const compute = async () => ++calls;
    expect((await cache.get('small', compute, rows)).value).toBe(1);
    expect((await cache.get('small', compute, rows)).value).toBe(2);
  });

  it('keeps at most maxKeys aggregates, dropping the oldest', async () => {
    const cache = new AggregateCache<number>({ ttlMs: 60_000, minRows: 1, maxKeys: 2 });
    let calls = 0;
    const compute = async () => 100 + ++calls;
    await cache.get('a', compute, rows);
    await cache.get('b', compute, rows);
    await cache.get('c', compute, rows);
    expect((await cache.get('b', compute, rows)).value).toBe(102);
    expect((await cache.get('a', compute, rows)).value).toBe(104);
  });
});
