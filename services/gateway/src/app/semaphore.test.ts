import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

describe('semaphore', () => {
  it('lets `limit` holders in and the rest in order as slots are released', async () => {
    const slots = new Semaphore(2);
    const order: string[] = [];
    const first = await slots.acquire();
    const second = await slots.acquire();
    const third = slots.acquire().then((release) => {
      order.push('third');
      return release;
    });
    const fourth = slots.acquire().then((release) => {
      order.push('fourth');
      return release;
    });
    expect(slots.queued).toBe(2);
    first();
    first(); // a second release of the same slot changes nothing
    (await third)();
    second();
    (await fourth)();
    expect(order).toEqual(['third', 'fourth']);
    expect(slots.queued).toBe(0);
    const again = await Promise.all([slots.acquire(), slots.acquire()]);
    expect(again).toHaveLength(2);
  });
});
